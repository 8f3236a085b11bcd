"""Merging layers into one /opt folder: order, conflicts, sharing (pure file-system logic)."""

import os
import time

from lamb.store.opt import opt_dir, opt_key, remove_unreferenced_opt


def tree(root, files):
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, tuple):  # ("link", target)
            os.symlink(content[1], p)
        else:
            p.write_text(content)
    return root


def read(root):
    out = {}
    for here, _, files in os.walk(root):
        for f in files:
            p = os.path.join(here, f)
            rel = os.path.relpath(p, root)
            out[rel] = ("link", os.readlink(p)) if os.path.islink(p) else open(p).read()
    return out


def test_later_layer_wins_and_folders_merge(tmp_path):
    a = tree(tmp_path / "a", {"python/lib.py": "A", "python/only_a.py": "a", "bin/tool": "A"})
    b = tree(tmp_path / "b", {"python/lib.py": "B", "lib/libx.so": "b"})
    dirs = {"a": a, "b": b}
    ab = opt_dir(tmp_path / "opt", ["a", "b"], dirs.__getitem__)
    ba = opt_dir(tmp_path / "opt", ["b", "a"], dirs.__getitem__)
    assert ab != ba and ab.name == opt_key(["a", "b"])
    assert read(ab) == {"python/lib.py": "B", "python/only_a.py": "a", "bin/tool": "A", "lib/libx.so": "b"}
    assert read(ba)["python/lib.py"] == "A"
    assert oct(os.stat(ab).st_mode & 0o777) == oct(0o755)
    assert oct(os.stat(ab / "python").st_mode & 0o777) == oct(0o755)


def test_built_once_and_shared(tmp_path):
    a = tree(tmp_path / "a", {"x": "1"})
    calls = []

    def code_dir(key):
        calls.append(key)
        return a

    first = opt_dir(tmp_path / "opt", ["a"], code_dir)
    second = opt_dir(tmp_path / "opt", ["a"], code_dir)
    assert first == second and calls == ["a"]
    assert not [p for p in (tmp_path / "opt").iterdir() if p.name.startswith(".merge-")]


def test_file_and_folder_conflicts_and_symlinks(tmp_path):
    a = tree(tmp_path / "a", {"thing/inside": "a", "f": "a", "link": ("link", "f")})
    b = tree(tmp_path / "b", {"thing": "now a file", "f/inside": "b", "link": ("link", "thing")})
    merged = opt_dir(tmp_path / "opt", ["a", "b"], {"a": a, "b": b}.__getitem__)
    assert read(merged) == {"thing": "now a file", "f/inside": "b", "link": ("link", "thing")}


def test_unreferenced_folders_are_removed_after_min_age(tmp_path):
    a = tree(tmp_path / "a", {"x": "1"})
    root = tmp_path / "opt"
    keep = opt_dir(root, ["a"], {"a": a}.__getitem__)
    drop = opt_dir(root, ["a", "a"], {"a": a}.__getitem__)
    remove_unreferenced_opt(root, {keep.name}, 60)
    assert keep.exists() and drop.exists()  # too young to tell
    old = time.time() - 3600
    os.utime(drop, (old, old))
    os.utime(keep, (old, old))
    remove_unreferenced_opt(root, {keep.name}, 60)
    assert keep.exists() and not drop.exists()
