"""Paths built from request input stay inside their folder."""

import os

import pytest

from lamb.safe_path import UnsafePath, contained


@pytest.mark.parametrize(
    "names",
    [(".",), ("..",), ("",), ("a/b",), ("/etc",), ("a\0b",), ("x" * 256,), ("ok", ".."), ("ok", "../x"), ("é" * 128,)],
)
def test_refused_names(tmp_path, names):
    with pytest.raises(UnsafePath):
        contained(tmp_path, *names)


def test_plain_names_are_joined(tmp_path):
    assert contained(tmp_path, "%2Faws%2Flambda%2Ffn", "..hidden", "a.b") == tmp_path / "%2Faws%2Flambda%2Ffn" / "..hidden" / "a.b"
    assert contained(tmp_path, "x" * 255) == tmp_path / ("x" * 255)
    assert contained(tmp_path) == tmp_path


def test_a_symlink_that_leads_outside_is_refused(tmp_path):
    root = tmp_path / "logs"
    root.mkdir()
    os.symlink(tmp_path, root / "up")
    os.symlink("../..", root / "rel")
    for name in ("up", "rel"):
        with pytest.raises(UnsafePath):
            contained(root, name)
        with pytest.raises(UnsafePath):
            contained(root, name, "lamb.db")


def test_a_symlink_that_stays_inside_is_allowed(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink("real", tmp_path / "alias")
    assert contained(tmp_path, "alias", "f") == tmp_path / "alias" / "f"
