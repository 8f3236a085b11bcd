"""Versions: PublishVersion, ListVersionsByFunction, qualifiers, deleting a version (issue 4)."""

from __future__ import annotations

import hashlib
import base64
import urllib.request

import pytest
from botocore.exceptions import ClientError

from .awscli import aws, aws_json, needs_cli
from .conftest import code_sha256, create, invoke, make_zip, unique


def src(marker: str) -> str:
    return f"""
import os
def handler(event, context):
    return {{"v": {marker!r}, "version": context.function_version, "arn": context.invoked_function_arn,
            "env_version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"], "stream": context.log_stream_name,
            "mem": context.memory_limit_in_mb}}
"""


def code(marker: str) -> bytes:
    return make_zip({"fn.py": src(marker)})


def err(e: pytest.ExceptionInfo) -> tuple[str, str, int]:
    r = e.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def update_code(lam, name, marker, **kw):
    out = lam.update_function_code(FunctionName=name, ZipFile=code(marker), **kw)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return out


@needs_cli
def test_old_version_keeps_running_old_code(lam, lamb_server):
    name = unique("ver")
    create(lam, name, code("one"))
    v1 = aws_json(lamb_server, "publish-version", "--function-name", name, "--description", "first")
    assert v1["Version"] == "1"
    assert v1["FunctionArn"] == lamb_server.arn(name, "1")
    assert v1["Description"] == "first"
    assert v1["State"] == "Active" and v1["LastUpdateStatus"] == "Successful"
    _, warm = invoke(lam, name, {}, Qualifier="1")  # a warm environment of version 1

    update_code(lam, name, "two")
    lam.update_function_configuration(FunctionName=name, MemorySize=256)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    # version 1 still runs its snapshot, in its own (still warm) environment
    for spelling, kw in ((name, {"Qualifier": "1"}), (f"{name}:1", {}), (lamb_server.arn(name, "1"), {}),
                         (f"{lamb_server.account_id}:function:{name}:1", {})):
        resp, out = invoke(lam, spelling, {}, **kw)
        assert resp["ExecutedVersion"] == "1", spelling
        assert out["v"] == "one" and out["version"] == "1" and out["env_version"] == "1", spelling
        assert out["arn"] == lamb_server.arn(name, "1") and out["mem"] == "128", spelling
        assert out["stream"] == warm["stream"], "a published version keeps its warm environment"
    # $LATEST runs the new code and configuration
    resp, out = invoke(lam, name, {})
    assert resp["ExecutedVersion"] == "$LATEST" and out["v"] == "two" and out["mem"] == "256"
    resp, out = invoke(lam, name, {}, Qualifier="$LATEST")
    assert resp["ExecutedVersion"] == "$LATEST" and out["arn"] == lamb_server.arn(name, "$LATEST")

    # the version's configuration and code are the snapshot
    cfg = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    assert cfg["Version"] == "1" and cfg["MemorySize"] == 128 and cfg["CodeSha256"] == code_sha256(code("one"))
    got = lam.get_function(FunctionName=f"{name}:1")
    assert got["Configuration"]["FunctionArn"] == lamb_server.arn(name, "1")
    with urllib.request.urlopen(got["Code"]["Location"], timeout=10) as r:
        assert base64.b64encode(hashlib.sha256(r.read()).digest()).decode() == code_sha256(code("one"))
    latest = lam.get_function_configuration(FunctionName=name, Qualifier="$LATEST")
    assert latest["FunctionArn"] == lamb_server.arn(name, "$LATEST") and latest["Version"] == "$LATEST"
    assert lam.get_function_configuration(FunctionName=name)["FunctionArn"] == lamb_server.arn(name)


def test_publish_unchanged_returns_last_version_and_numbers_are_never_reused(lam, lamb_server):
    name = unique("ver")
    create(lam, name, code("a"))
    before = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    v1 = lam.publish_version(FunctionName=name)
    # publishing gives $LATEST a new RevisionId, as on AWS
    assert lam.get_function_configuration(FunctionName=name)["RevisionId"] != before
    again = lam.publish_version(FunctionName=name, Description="ignored: nothing changed")
    assert again["Version"] == "1" and again["RevisionId"] == v1["RevisionId"] and again["Description"] == ""

    # a configuration change is a change too
    lam.update_function_configuration(FunctionName=name, Description="second")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    v2 = lam.publish_version(FunctionName=name)
    assert v2["Version"] == "2" and v2["Description"] == "second"

    lam.delete_function(FunctionName=name, Qualifier="2")
    update_code(lam, name, "b")
    assert lam.publish_version(FunctionName=name)["Version"] == "3"
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST", "1", "3"]


def test_publish_preconditions(lam, lamb_server):
    name = unique("ver")
    create(lam, name, code("a"))
    latest = lam.get_function_configuration(FunctionName=name)
    with pytest.raises(ClientError) as e:
        lam.publish_version(FunctionName=name, RevisionId="00000000-0000-0000-0000-000000000000")
    assert err(e) == ("PreconditionFailedException",
                      "The Revision Id provided does not match the latest Revision Id. "
                      "Call the GetFunction/GetAlias API to retrieve the latest Revision Id", 412)
    assert isinstance(e.value, lam.exceptions.PreconditionFailedException)
    with pytest.raises(ClientError) as e:
        lam.publish_version(FunctionName=name, CodeSha256="somenonexistentsha256")
    assert err(e) == ("InvalidParameterValueException",
                      f"CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 in $LATEST "
                      f"({latest['CodeSha256']}). Please try again with the CodeSHA256 in $LATEST.", 400)
    assert lam.list_versions_by_function(FunctionName=name)["Versions"][-1]["Version"] == "$LATEST"
    ok = lam.publish_version(FunctionName=name, RevisionId=latest["RevisionId"], CodeSha256=latest["CodeSha256"])
    assert ok["Version"] == "1"
    with pytest.raises(ClientError) as e:
        lam.publish_version(FunctionName=unique("nope"))
    assert err(e)[0] == "ResourceNotFoundException"


def test_publish_on_create_and_on_update_code(lam, lamb_server):
    name = unique("ver")
    created = create(lam, name, code("a"), Publish=True, Description="d")
    assert created["Version"] == "1"
    assert created["FunctionArn"] == lamb_server.arn(name)  # as AWS answers CreateFunction with Publish
    v1 = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    assert v1["State"] == "Active" and v1["Description"] == "d"

    updated = update_code(lam, name, "b", Publish=True)
    assert updated["Version"] == "2" and updated["FunctionArn"] == lamb_server.arn(name, "2")
    assert updated["CodeSha256"] == code_sha256(code("b"))
    # unchanged code with Publish returns the last version
    assert update_code(lam, name, "b", Publish=True)["Version"] == "2"
    # DryRun publishes nothing
    lam.update_function_code(FunctionName=name, ZipFile=code("c"), Publish=True, DryRun=True)
    assert len(lam.list_versions_by_function(FunctionName=name)["Versions"]) == 3
    assert invoke(lam, name, {}, Qualifier="1")[1]["v"] == "a"
    assert invoke(lam, name, {}, Qualifier="2")[1]["v"] == "b"


def test_list_versions_by_function_and_list_functions_all(fresh_server):
    server = fresh_server()
    lam = server.client()
    name = unique("ver")
    create(lam, name, code("0"))
    for i in range(1, 5):
        update_code(lam, name, str(i))
        lam.publish_version(FunctionName=name)
    seen, marker = [], None
    while True:
        page = lam.list_versions_by_function(FunctionName=name, MaxItems=2, **({"Marker": marker} if marker else {}))
        assert len(page["Versions"]) <= 2
        seen += page["Versions"]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert [v["Version"] for v in seen] == ["$LATEST", "1", "2", "3", "4"]
    assert [v["FunctionArn"] for v in seen] == [server.arn(name, v) for v in ("$LATEST", "1", "2", "3", "4")]
    for v in seen:  # listed as AWS lists them
        assert "State" not in v and "LastUpdateStatus" not in v and "RuntimeVersionConfig" not in v
    pages = lam.get_paginator("list_versions_by_function").paginate(FunctionName=name, PaginationConfig={"PageSize": 3})
    assert [v["Version"] for p in pages for v in p["Versions"]] == ["$LATEST", "1", "2", "3", "4"]

    everything = lam.list_functions(FunctionVersion="ALL")["Functions"]
    assert sorted(f["FunctionArn"] for f in everything) == sorted(server.arn(name, v) for v in ("$LATEST", "1", "2", "3", "4"))
    assert [f["FunctionArn"] for f in lam.list_functions()["Functions"]] == [server.arn(name)]
    with pytest.raises(ClientError) as e:
        lam.list_versions_by_function(FunctionName=unique("nope"))
    assert err(e)[0] == "ResourceNotFoundException"


def test_qualifier_errors(lam, lamb_server):
    name = unique("ver")
    create(lam, name, code("a"))
    lam.publish_version(FunctionName=name)
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=f"{name}:1", Qualifier="2")
    assert err(e) == ("InvalidParameterValueException",
                      "The derived qualifier from the function name does not match the specified qualifier.", 400)
    for qualifier in ("9", "no-such-alias"):
        for call in (lambda: lam.get_function(FunctionName=name, Qualifier=qualifier),
                     lambda: lam.get_function_configuration(FunctionName=f"{name}:{qualifier}"),
                     lambda: lam.invoke(FunctionName=lamb_server.arn(name, qualifier), Payload=b"{}")):
            with pytest.raises(ClientError) as e:
                call()
            assert err(e) == ("ResourceNotFoundException", f"Function not found: {lamb_server.arn(name, qualifier)}", 404)
    # a published version is immutable: only $LATEST can be updated
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=f"{name}:1", MemorySize=512)
    assert err(e)[0] == "InvalidParameterValueException"
    assert lam.get_function_configuration(FunctionName=name, Qualifier="1")["MemorySize"] == 128


def test_delete_one_version(lam, lamb_server):
    name = unique("ver")
    create(lam, name, code("a"))
    lam.publish_version(FunctionName=name)
    update_code(lam, name, "b")
    lam.publish_version(FunctionName=name)
    assert invoke(lam, name, {}, Qualifier="1")[1]["v"] == "a"

    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=name, Qualifier="$LATEST")
    assert err(e) == ("InvalidParameterValueException",
                      "$LATEST version cannot be deleted without deleting the function.", 400)
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=f"{name}:$LATEST")
    assert err(e)[0] == "InvalidParameterValueException"

    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="2")
    lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=name, Qualifier="2")
    assert err(e) == ("ResourceConflictException",
                      "Unable to delete version because the following aliases reference it: [canary, live]", 409)
    # an alias name as the qualifier names the version it points to: the same refusal
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=name, Qualifier="live")
    assert err(e)[0] == "ResourceConflictException"

    lam.delete_alias(FunctionName=name, Name="canary")
    lam.delete_function(FunctionName=name, Qualifier="1")
    for call in (lambda: lam.get_function(FunctionName=name, Qualifier="1"),
                 lambda: lam.invoke(FunctionName=name, Qualifier="1", Payload=b"{}")):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == ("ResourceNotFoundException", f"Function not found: {lamb_server.arn(name, '1')}", 404)
    # deleting a version number the function does not have (any more) succeeds, as on AWS
    assert lam.delete_function(FunctionName=name, Qualifier="1")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert invoke(lam, name, {}, Qualifier="2")[1]["v"] == "b"
    assert invoke(lam, f"{name}:live", {})[1]["v"] == "b"

    # deleting the function deletes its versions and aliases
    lam.delete_function(FunctionName=name)
    create(lam, name, code("c"))
    with pytest.raises(ClientError) as e:
        lam.get_alias(FunctionName=name, Name="live")
    assert err(e)[0] == "ResourceNotFoundException"
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST"]
    assert lam.publish_version(FunctionName=name)["Version"] == "1"


@needs_cli
def test_versions_and_aliases_survive_restart(fresh_server):
    server = fresh_server()
    lam = server.client()
    name = unique("ver")
    create(lam, name, code("a"))
    aws_json(server, "publish-version", "--function-name", name)
    update_code(lam, name, "b")
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    server.kill9()
    server.restart()
    lam = server.client()
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert invoke(lam, name, {}, Qualifier="1")[1]["v"] == "a"
    assert invoke(lam, name, {}, Qualifier="2")[1]["v"] == "b"
    alias = lam.get_alias(FunctionName=name, Name="live")
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    assert {invoke(lam, f"{name}:live", {})[0]["ExecutedVersion"] for _ in range(30)} <= {"1", "2"}
    update_code(lam, name, "c")
    assert lam.publish_version(FunctionName=name)["Version"] == "3"  # the counter survived too
    assert aws(server, "delete-function", "--function-name", name, "--qualifier", "3").returncode == 0
