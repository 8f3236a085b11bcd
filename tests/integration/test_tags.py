"""TagResource, UntagResource, ListTags: tags belong to the function."""

from __future__ import annotations

import pytest

from .conftest import create, unique


def test_tags_round_trip(lam, lamb_server):
    name = unique("tags")
    create(lam, name, "def handler(e, c):\n    return 1\n", Tags={"team": "a"})
    arn = lamb_server.arn(name)
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    lam.tag_resource(Resource=arn, Tags={"env": "test", "team": "b"})
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "b", "env": "test"}
    assert lam.get_function(FunctionName=name)["Tags"] == {"team": "b", "env": "test"}
    lam.untag_resource(Resource=arn, TagKeys=["team", "absent"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"env": "test"}


def test_tag_errors(lam, lamb_server):
    name = unique("tagerr")
    create(lam, name, "def handler(e, c):\n    return 1\n")
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as e:
        lam.list_tags(Resource=lamb_server.arn("nope-" + name))
    assert e.value.response["Error"]["Message"] == f"Function not found: {lamb_server.arn('nope-' + name)}"
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.tag_resource(Resource=lamb_server.arn(name, "$LATEST"), Tags={"a": "b"})
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.tag_resource(Resource=lamb_server.arn(name), Tags={f"k{i}": "v" for i in range(51)})
    assert e.value.response["Error"]["Message"] == "Number of tags exceeds resource tag limit."
    assert lam.list_tags(Resource=lamb_server.arn(name))["Tags"] == {}
