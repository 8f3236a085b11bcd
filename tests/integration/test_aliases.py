"""Aliases: CRUD, routing configuration, invoking through an alias, weighted splits (issue 4)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .awscli import aws_json, needs_cli
from .conftest import ROLE, create, invoke, make_zip, unique

REVISION_MISMATCH = ("The Revision Id provided does not match the latest Revision Id. "
                     "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")


def src(marker: str) -> str:
    return f"""
def handler(event, context):
    return {{"v": {marker!r}, "version": context.function_version, "arn": context.invoked_function_arn}}
"""


def err(e: pytest.ExceptionInfo) -> tuple[str, str, int]:
    r = e.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def with_versions(lam, n: int, **create_kw) -> str:
    """A function with published versions 1..n, version i running code 'v<i>'."""
    name = unique("al")
    create(lam, name, src("v1"), **create_kw)
    lam.publish_version(FunctionName=name)
    for i in range(2, n + 1):
        lam.update_function_code(FunctionName=name, ZipFile=make_zip({"fn.py": src(f"v{i}")}))
        lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        assert lam.publish_version(FunctionName=name)["Version"] == str(i)
    return name


@needs_cli
def test_alias_lifecycle(lam, lamb_server):
    name = with_versions(lam, 3)
    alias_arn = lamb_server.arn(name, "live")
    created = aws_json(lamb_server, "create-alias", "--function-name", name, "--name", "live",
                       "--function-version", "1", "--description", "production")
    assert created["AliasArn"] == alias_arn and created["Name"] == "live"
    assert created["FunctionVersion"] == "1" and created["Description"] == "production"
    assert "RoutingConfig" not in created and created["RevisionId"]
    got = lam.get_alias(FunctionName=lamb_server.arn(name), Name="live")
    assert {k: got[k] for k in created} == created

    # GetFunction(Configuration) through the alias: the version's configuration, the alias's ARN
    cfg = lam.get_function_configuration(FunctionName=name, Qualifier="live")
    assert cfg["FunctionArn"] == alias_arn and cfg["Version"] == "1"
    assert lam.get_function(FunctionName=alias_arn)["Configuration"]["Version"] == "1"
    resp, out = invoke(lam, f"{name}:live", {})
    assert resp["ExecutedVersion"] == "1" and out == {"v": "v1", "version": "1", "arn": alias_arn}

    # move the alias (a release / rollback): the next invocations run the other version
    with pytest.raises(ClientError) as e:
        lam.update_alias(FunctionName=name, Name="live", FunctionVersion="3", RevisionId="nope")
    assert err(e) == ("PreconditionFailedException", REVISION_MISMATCH, 412)
    updated = lam.update_alias(FunctionName=name, Name="live", FunctionVersion="3", RevisionId=got["RevisionId"])
    assert updated["FunctionVersion"] == "3" and updated["Description"] == "production"
    assert updated["RevisionId"] != got["RevisionId"]
    resp, out = invoke(lam, name, {}, Qualifier="live")
    assert resp["ExecutedVersion"] == "3" and out["v"] == "v3"
    lam.update_alias(FunctionName=name, Name="live", Description="")
    assert lam.get_alias(FunctionName=name, Name="live")["Description"] == ""

    # an alias of $LATEST follows $LATEST
    lam.create_alias(FunctionName=name, Name="edge", FunctionVersion="$LATEST")
    resp, out = invoke(lam, f"{name}:edge", {})
    assert resp["ExecutedVersion"] == "$LATEST" and out["v"] == "v3"

    lam.delete_alias(FunctionName=name, Name="live")
    with pytest.raises(ClientError) as e:
        lam.get_alias(FunctionName=name, Name="live")
    assert err(e) == ("ResourceNotFoundException", f"Cannot find alias arn: {alias_arn}", 404)
    with pytest.raises(ClientError) as e:
        invoke(lam, f"{name}:live", {})
    assert err(e) == ("ResourceNotFoundException", f"Function not found: {alias_arn}", 404)
    lam.delete_alias(FunctionName=name, Name="live")  # deleting a missing alias succeeds, as on AWS


def test_alias_errors(lam, lamb_server):
    name = with_versions(lam, 2)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="2")
    assert err(e) == ("ResourceConflictException", f"Alias already exists: {lamb_server.arn(name, 'live')}", 409)
    assert isinstance(e.value, lam.exceptions.ResourceConflictException)
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="other", FunctionVersion="10")
    assert err(e) == ("ResourceNotFoundException", f"Function not found: {lamb_server.arn(name, '10')}", 404)
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=f"{name}-unknown", Name="other", FunctionVersion="1")
    assert err(e) == ("ResourceNotFoundException", f"Function not found: {lamb_server.arn(name + '-unknown', '1')}", 404)
    with pytest.raises(ClientError) as e:
        lam.update_alias(FunctionName=name, Name="nope", FunctionVersion="1")
    assert err(e) == ("ResourceNotFoundException", f"Alias not found: {lamb_server.arn(name, 'nope')}", 404)
    with pytest.raises(ClientError) as e:
        lam.update_alias(FunctionName=name, Name="live", FunctionVersion="10")
    assert err(e)[0] == "ResourceNotFoundException"
    # alias names are not version numbers (the model's pattern)
    raw = lamb_server.raw_client()
    with pytest.raises(ClientError) as e:
        raw.create_alias(FunctionName=name, Name="123", FunctionVersion="1")
    assert err(e)[0] == "ValidationException"


def test_routing_config_rules(lam, lamb_server):
    name = with_versions(lam, 3)
    raw = lamb_server.raw_client()

    def create_alias(client, **routing):
        return client.create_alias(FunctionName=name, Name=unique("a"), FunctionVersion=routing.pop("primary", "1"),
                                   RoutingConfig={"AdditionalVersionWeights": routing["weights"]})

    cases = [
        (lam, {"weights": {"2": 0.5, "3": 0.1}}, ("InvalidParameterValueException",
         "Number of items in AdditionalVersionWeights cannot be greater than 1", 400)),
        (lam, {"weights": {"1": 0.5}}, ("InvalidParameterValueException",
         "Invalid function version 1. Function version 1 is already included in routing configuration.", 400)),
        (lam, {"primary": "$LATEST", "weights": {"1": 0.5}}, ("InvalidParameterValueException",
         "$LATEST is not supported for an alias pointing to more than 1 version", 400)),
        (lam, {"weights": {"10": 0.5}}, ("ResourceNotFoundException",
         f"Function not found: {lamb_server.arn(name, '10')}", 404)),
    ]
    for client, routing, expected in cases:
        with pytest.raises(ClientError) as e:
            create_alias(client, **routing)
        assert err(e) == expected, routing
    for weights, where in (({"2": 2.0}, "Map value"), ({"2": -1.0}, "Map value"), ({"$LATEST": 0.5}, "Map keys")):
        with pytest.raises(ClientError) as e:
            create_alias(raw, weights=weights)
        code, message, status = err(e)
        assert (code, status) == ("ValidationException", 400)
        assert message.startswith("1 validation error detected: Value '{") and "routingConfig.additionalVersionWeights" in message
        assert where in message
    # an empty routing configuration is no routing configuration
    plain = lam.create_alias(FunctionName=name, Name="plain", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in plain

    # UpdateAlias: the same rules against the new primary, and an empty map removes the routing
    lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}})
    with pytest.raises(ClientError) as e:
        lam.update_alias(FunctionName=name, Name="canary", FunctionVersion="2")
    assert err(e)[1] == "Invalid function version 2. Function version 2 is already included in routing configuration."
    moved = lam.update_alias(FunctionName=name, Name="canary", FunctionVersion="3")
    assert moved["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.2}}
    cleared = lam.update_alias(FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in cleared and "RoutingConfig" not in lam.get_alias(FunctionName=name, Name="canary")


def test_weighted_versions_need_the_same_role(lam, lamb_server):
    name = with_versions(lam, 1)
    lam.update_function_configuration(FunctionName=name, Role=lamb_server.ensure_role(ROLE + "-other"))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    assert err(e) == ("InvalidParameterValueException", "Specified versions must be associated with the same execution role", 400)


def test_list_aliases(fresh_server):
    server = fresh_server()
    lam = server.client()
    name = with_versions(lam, 3)
    names = [f"a{i}" for i in range(5)]
    for i, alias in enumerate(names):
        lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=str(1 + i % 2))
    lam.create_alias(FunctionName=name, Name="weighted", FunctionVersion="3", RoutingConfig={"AdditionalVersionWeights": {"1": 0.1}})
    everything = lam.list_aliases(FunctionName=name)["Aliases"]
    assert [a["Name"] for a in everything] == names + ["weighted"]
    assert everything[0]["AliasArn"] == server.arn(name, "a0") and everything[0]["FunctionVersion"] == "1"
    # FunctionVersion: the aliases that invoke that version
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name, FunctionVersion="1")["Aliases"]] == ["a0", "a2", "a4", "weighted"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name, FunctionVersion="2")["Aliases"]] == ["a1", "a3"]
    assert lam.list_aliases(FunctionName=name, FunctionVersion="$LATEST")["Aliases"] == []
    seen, marker = [], None
    while True:
        page = lam.list_aliases(FunctionName=name, MaxItems=4, **({"Marker": marker} if marker else {}))
        assert len(page["Aliases"]) <= 4
        seen += [a["Name"] for a in page["Aliases"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert seen == names + ["weighted"]
    pages = lam.get_paginator("list_aliases").paginate(FunctionName=name, PaginationConfig={"PageSize": 2})
    assert [a["Name"] for p in pages for a in p["Aliases"]] == names + ["weighted"]
    with pytest.raises(ClientError) as e:
        lam.list_aliases(FunctionName=unique("nope"))
    assert err(e)[0] == "ResourceNotFoundException"


def test_weighted_alias_splits_traffic(lam, lamb_server):
    """0.3 of ~300 invocations go to the additional version, within 4 binomial standard deviations."""
    name = with_versions(lam, 2)
    lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})
    n, p = 300, 0.3
    counts = {"1": 0, "2": 0}
    for _ in range(n):
        resp, out = invoke(lam, f"{name}:canary", {})
        executed = resp["ExecutedVersion"]
        # the header tells which version ran, and that version's code ran it under the alias ARN
        assert out == {"v": f"v{executed}", "version": executed, "arn": lamb_server.arn(name, "canary")}
        counts[executed] += 1
    sd = (n * p * (1 - p)) ** 0.5
    assert abs(counts["2"] - n * p) <= 4 * sd, counts
    # weights 0 and 1 are the extremes
    lam.update_alias(FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {"2": 1.0}})
    assert {invoke(lam, f"{name}:canary", {})[0]["ExecutedVersion"] for _ in range(20)} == {"2"}
    lam.update_alias(FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {"2": 0.0}})
    assert {invoke(lam, f"{name}:canary", {})[0]["ExecutedVersion"] for _ in range(20)} == {"1"}


def test_deleting_an_alias_deletes_its_event_invoke_and_provisioned_configs(lam):
    name = unique("aliascfg")
    create(lam, name, "def handler(e, c):\n    return 1\n")
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="live", MaximumRetryAttempts=0)
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1)
    lam.delete_alias(FunctionName=name, Name="live")
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_event_invoke_config(FunctionName=name, Qualifier="live")
    with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
    assert lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []
