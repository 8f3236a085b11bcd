"""lamb.runtimes.versions: one runtime version per runtime root format, named as AWS names them."""

from __future__ import annotations

import hashlib
import re

from lamb.runtimes import node, python, versions
from lamb.runtimes.manager import SUPPORTED

R = "us-east-1"


def test_a_version_is_the_runtime_root_it_stands_for():
    v = versions.current(R, "python3.12")
    assert v.root == f"python3.12-v{python.ROOT_FORMAT}"
    assert v.arn == f"arn:aws:lambda:{R}::runtime:{hashlib.sha256(v.root.encode()).hexdigest()}"
    assert versions.current(R, "nodejs20.x").root == f"nodejs20.x-v{node.ROOT_FORMAT}"
    assert versions.current(R, "provided.al2023").root == "provided.al2023-v1"


def test_arns_have_aws_shape_and_differ_per_runtime_and_region():
    arns = [versions.current(R, r).arn for r in SUPPORTED]
    assert len(set(arns)) == len(SUPPORTED)
    assert all(re.fullmatch(r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}", a) for a in arns)
    assert versions.current("eu-west-1", "python3.12").arn == versions.current(R, "python3.12").arn.replace(R, "eu-west-1")


def test_init_start_names():
    assert versions.current(R, "python3.12").name == f"python:3.12.v{python.ROOT_FORMAT}"
    assert versions.current(R, "python3.9").name == f"python:3.9.v{python.ROOT_FORMAT}"
    assert versions.current(R, "nodejs22.x").name == f"nodejs:22.v{node.ROOT_FORMAT}"
    assert versions.current(R, "provided.al2").name == "provided:al2.v1"


def test_find_knows_only_this_lambs_versions_in_its_region():
    v = versions.current(R, "python3.13")
    assert versions.find(R, v.arn) == v
    assert set(versions.all_current(R)) == {versions.current(R, r).arn for r in SUPPORTED}
    assert versions.find("eu-west-1", v.arn) is None
    assert versions.find(R, f"arn:aws:lambda:{R}::runtime:{hashlib.sha256(b'python3.13-v0').hexdigest()}") is None
    assert versions.find(R, "arn:aws:lambda:us-east-1::runtime:") is None
    assert versions.find(R, "not an arn") is None
