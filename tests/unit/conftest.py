"""A function store with one function, one published version and an alias, on a real database."""

from __future__ import annotations

import pytest

from lamb.store.db import Database
from lamb.store.functions import FunctionStore

ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"


@pytest.fixture
def functions(tmp_path) -> FunctionStore:
    store = FunctionStore(Database(tmp_path / "lamb.db"))
    store.create("f", {"Created": 1.0}, {"FunctionName": "f", "FunctionArn": ARN, "Version": "$LATEST",
                                         "Runtime": "python3.12", "State": "Active", "RevisionId": "r0"})
    store.put_version("f", "1", {"FunctionName": "f", "FunctionArn": ARN + ":1", "Version": "1",
                                 "Runtime": "python3.12", "State": "Active", "RevisionId": "r1"})
    store.put_alias("f", {"Name": "live", "FunctionVersion": "1"})
    return store
