"""deploy/command.py: the endpoint as the AWS CLI finds it; the default stack name."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamb.deploy.command import _default_stack, _fingerprint, endpoint


def test_endpoint_order(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_LAMBDA", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://global:1")
    assert endpoint(None) == "http://global:1"
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", "http://lamb:2")
    assert endpoint(None) == "http://lamb:2"
    assert endpoint("http://explicit:3") == "http://explicit:3"
    monkeypatch.delenv("AWS_ENDPOINT_URL_LAMBDA")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    with pytest.raises(SystemExit):
        endpoint(None)


def test_default_stack_name():
    assert _default_stack(Path("/work/my_app/template.yaml")) == "my-app"
    assert _default_stack(Path("/work/shop/.aws-sam/build/template.yaml")) == "shop"
    assert _default_stack(Path("/work/2048/template.yaml")) == "stack-2048"


def test_fingerprint_changes_with_code(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "a.py").write_text("1")
    (tmp_path / "t.yaml").write_text("Resources: {}")
    before = _fingerprint([tmp_path / "code"], tmp_path / "t.yaml")
    assert _fingerprint([tmp_path / "code"], tmp_path / "t.yaml") == before
    (tmp_path / "code" / "a.py").write_text("22")
    assert _fingerprint([tmp_path / "code"], tmp_path / "t.yaml") != before


def test_fingerprint_changes_with_a_definition_file(tmp_path):
    (tmp_path / "t.yaml").write_text("Resources: {}\n")
    (tmp_path / "api.yaml").write_text("openapi: 3.0.1\n")
    before = _fingerprint([tmp_path / "api.yaml"], tmp_path / "t.yaml")
    assert _fingerprint([tmp_path / "api.yaml"], tmp_path / "t.yaml") == before
    (tmp_path / "api.yaml").write_text("openapi: 3.0.1\npaths: {}\n")
    assert _fingerprint([tmp_path / "api.yaml"], tmp_path / "t.yaml") != before
