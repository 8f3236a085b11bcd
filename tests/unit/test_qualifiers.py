"""Qualifiers and layer ARNs (pure logic)."""

import pytest

from lamb.api.versions import fingerprint
from lamb.arn import (LATEST, is_alias_name, is_published_version, is_version, layer_arn, layer_version_arn,
                      parse_function_name, parse_layer_arn)
from lamb.protocol.errors import AwsError

R, A = "us-east-1", "123456789012"


@pytest.mark.parametrize("value,qualifier,expected", [
    ("f", None, ("f", None)),
    ("f:1", None, ("f", "1")),
    ("f:live", None, ("f", "live")),
    ("f:$LATEST", None, ("f", "$LATEST")),
    ("f", "7", ("f", "7")),
    ("f:7", "7", ("f", "7")),
    (f"arn:aws:lambda:{R}:{A}:function:f:live", None, ("f", "live")),
    (f"arn:aws:lambda:{R}:{A}:function:f", "live", ("f", "live")),
    (f"{A}:function:f:3", None, ("f", "3")),
])
def test_function_name_with_qualifiers(value, qualifier, expected):
    ref = parse_function_name(value, qualifier, region=R, account_id=A)
    assert (ref.name, ref.qualifier) == expected


def test_conflicting_qualifiers():
    with pytest.raises(AwsError) as e:
        parse_function_name("f:1", "2", region=R, account_id=A)
    assert e.value.code == "InvalidParameterValueException"
    assert e.value.message == "The derived qualifier from the function name does not match the specified qualifier."


def test_qualifier_kinds():
    assert is_version(LATEST) and is_version("12") and not is_version("live")
    assert is_published_version("12") and not is_published_version(LATEST) and not is_published_version("a1")
    assert is_alias_name("live") and is_alias_name("v-1_2") and not is_alias_name("12") and not is_alias_name(LATEST)


def test_layer_arns():
    assert layer_arn(R, A, "lib") == f"arn:aws:lambda:{R}:{A}:layer:lib"
    assert layer_version_arn(R, A, "lib", 3) == f"arn:aws:lambda:{R}:{A}:layer:lib:3"
    ref = parse_layer_arn(f"arn:aws:lambda:{R}:{A}:layer:my-lib_2:14")
    assert (ref.region, ref.account, ref.name, ref.version) == (R, A, "my-lib_2", 14)
    assert parse_layer_arn(f"arn:aws:lambda:{R}:{A}:layer:lib").version is None
    assert parse_layer_arn("lib") is None
    assert parse_layer_arn(f"arn:aws:lambda:{R}:{A}:function:f") is None


def test_fingerprint_ignores_identity_and_state_not_content():
    base = {"FunctionArn": "a", "Version": "$LATEST", "RevisionId": "r1", "LastModified": "t1", "State": "Active",
            "CodeSha256": "x", "MemorySize": 128, "Description": "d"}
    same = dict(base, RevisionId="r2", LastModified="t2", State="Pending", LastUpdateStatus="Successful")
    assert fingerprint(base) == fingerprint(same)
    assert fingerprint(base) != fingerprint(dict(base, CodeSha256="y"))
    assert fingerprint(base) != fingerprint(dict(base, MemorySize=256))
    assert fingerprint(base) != fingerprint(dict(base, Description="other"))
