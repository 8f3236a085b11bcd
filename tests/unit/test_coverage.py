"""The served-operations summary against the installed botocore model."""

from __future__ import annotations

import botocore

from lamb.api import load_all
from lamb.api.coverage import coverage, describe
from lamb.protocol import Protocol


def test_counts_the_installed_model_and_the_built_handlers():
    model = Protocol().service_model.operation_names
    handlers = load_all()
    c = coverage(model, handlers, botocore.__version__)
    assert c["botocore"] == botocore.__version__
    assert c["model"] == len(model)
    assert c["served"] + len(c["not_built"]) == c["model"]
    assert c["served"] == len(set(model) & set(handlers)) > 0
    assert set(c["not_built"]).isdisjoint(handlers)


def test_a_newer_model_adds_not_built_operations_and_an_older_one_lacks_built_ones():
    c = coverage(["GetFunction", "Invoke", "PutResourcePolicy"], ["GetFunction", "Invoke", "Brand"], "9.9.9")
    assert c == {"botocore": "9.9.9", "model": 3, "served": 2, "not_built": ["PutResourcePolicy"], "not_in_model": ["Brand"]}
    assert describe(c) == (
        "serving 2 of the 3 operations of botocore 9.9.9's Lambda model (1 built operations missing from it: Brand)"
    )
    assert describe(coverage(["Invoke"], ["Invoke"], "1.0")) == "serving 1 of the 1 operations of botocore 1.0's Lambda model"
