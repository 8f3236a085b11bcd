"""Where a provisioned concurrency config may live: AWS's rules for an alias and its version.

AWS keeps one config per set of environments and refuses a second one instead of
adding them up. Messages marked "recorded" come from AWS responses recorded in
LocalStack's snapshot tests (tests/aws/services/lambda_/test_lambda_api.snapshot.json,
TestLambdaProvisionedConcurrency) or quoted from AWS in hashicorp/terraform#24957;
the ones marked "guess" are Lamb's (see docs/status.md).
"""

from __future__ import annotations

from .conftest import create, invoke, refused, unique, wait_for

CODE = ("import os\n"
        "def handler(e, c):\n"
        "    return {'type': os.environ['AWS_LAMBDA_INITIALIZATION_TYPE'], 'v': c.function_version}\n")

ALIAS_ON_PROVISIONED_VERSION = (
    "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version")
VERSION_UNDER_PROVISIONED_ALIAS = "Version is pointed by a Provisioned Concurrency alias"
WEIGHTED_ALIAS = "Alias with weights can not be used with Provisioned Concurrency"
UNPUBLISHED = "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
NOT_ALIAS_OR_VERSION = "The function resource provided must be an alias or a published version."


def versions(lam, n: int) -> str:
    """A function with published versions 1..n."""
    name = unique("provrule")
    create(lam, name, CODE)
    for i in range(1, n + 1):
        if i > 1:
            lam.update_function_configuration(FunctionName=name, Description=f"v{i}")
            lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        assert lam.publish_version(FunctionName=name)["Version"] == str(i)
    return name


def put(lam, name, qualifier, n=1):
    return lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier,
                                                  ProvisionedConcurrentExecutions=n)


def listed(lam, name):
    return {c["FunctionArn"].rsplit(":", 1)[1]: c["RequestedProvisionedConcurrentExecutions"]
            for c in lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]}


def provisioned_versions(server, name):
    return sorted(e["version"] for e in server.get_json("/_lamb/environments")
                  if e["function"] == name and e["provisioned"])


def ready(lam, name, qualifier):
    wait_for(lambda: lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)["Status"] == "READY",
             30, 0.1, f"{qualifier} to be READY")


def test_alias_on_a_provisioned_version_conflicts(lam):
    """Recorded: ResourceConflictException, and the version's config is left as it was."""
    name = versions(lam, 1)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert put(lam, name, "1", 2)["ResponseMetadata"]["HTTPStatusCode"] == 202
    refused(lam, "ResourceConflictException", 409, ALIAS_ON_PROVISIONED_VERSION,
            lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="live",
            ProvisionedConcurrentExecutions=1)
    # also through a qualified function name
    refused(lam, "ResourceConflictException", 409, ALIAS_ON_PROVISIONED_VERSION,
            lam.put_provisioned_concurrency_config, FunctionName=f"{name}:live", Qualifier="live",
            ProvisionedConcurrentExecutions=1)
    assert listed(lam, name) == {"1": 2}
    # Updating the version's own config is fine; once it is gone the alias may have one.
    put(lam, name, "1", 1)
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    put(lam, name, "live", 1)
    assert listed(lam, name) == {"live": 1}


def test_version_under_a_provisioned_alias_conflicts(lam, lamb_server):
    """Recorded: ResourceConflictException; the alias's environments are the only ones."""
    name = versions(lam, 1)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    put(lam, name, "live", 1)
    refused(lam, "ResourceConflictException", 409, VERSION_UNDER_PROVISIONED_ALIAS,
            lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="1",
            ProvisionedConcurrentExecutions=3)
    ready(lam, name, "live")
    assert provisioned_versions(lamb_server, name) == ["1"]
    assert listed(lam, name) == {"live": 1}
    # The alias may update its own config.
    put(lam, name, "live", 2)
    ready(lam, name, "live")
    assert provisioned_versions(lamb_server, name) == ["1", "1"]
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
    put(lam, name, "1", 1)
    assert listed(lam, name) == {"1": 1}


def test_other_versions_and_aliases_are_unaffected(lam):
    """The rules are about one alias and the version it points to, nothing else."""
    name = versions(lam, 2)
    lam.create_alias(FunctionName=name, Name="one", FunctionVersion="1")
    lam.create_alias(FunctionName=name, Name="two", FunctionVersion="2")
    put(lam, name, "one")
    put(lam, name, "2")
    assert listed(lam, name) == {"one": 1, "2": 1}
    refused(lam, "ResourceConflictException", 409, ALIAS_ON_PROVISIONED_VERSION,
            lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="two",
            ProvisionedConcurrentExecutions=1)


def test_weighted_alias_cannot_be_provisioned(lam):
    """Recorded (hashicorp/terraform#24957): InvalidParameterValueException, until the weights go."""
    name = versions(lam, 2)
    lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    refused(lam, "InvalidParameterValueException", 400, WEIGHTED_ALIAS,
            lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="canary",
            ProvisionedConcurrentExecutions=1)
    lam.update_alias(FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {"2": 0.0}})
    refused(lam, "InvalidParameterValueException", 400, WEIGHTED_ALIAS,
            lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="canary",
            ProvisionedConcurrentExecutions=1)
    assert listed(lam, name) == {}
    lam.update_alias(FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {}})
    put(lam, name, "canary")
    assert listed(lam, name) == {"canary": 1}


def test_alias_of_latest_cannot_be_provisioned(lam):
    """Refused as on AWS (zappa/Zappa#1289); the message is a guess: AWS's one for $LATEST itself."""
    name = versions(lam, 1)
    lam.create_alias(FunctionName=name, Name="head", FunctionVersion="$LATEST")
    refused(lam, "InvalidParameterValueException", 400, UNPUBLISHED,
            lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="head",
            ProvisionedConcurrentExecutions=1)
    assert listed(lam, name) == {}


def test_update_alias_keeps_the_rules_and_moves_the_environments(lam, lamb_server):
    """Re-pointing an alias with a config: refused onto a provisioned version or $LATEST
    (guessed messages), otherwise its environments follow it. Weights may be added."""
    name = versions(lam, 3)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    put(lam, name, "live")
    put(lam, name, "2")
    ready(lam, name, "live")
    revision = lam.get_alias(FunctionName=name, Name="live")["RevisionId"]
    refused(lam, "ResourceConflictException", 409, ALIAS_ON_PROVISIONED_VERSION,
            lam.update_alias, FunctionName=name, Name="live", FunctionVersion="2")
    refused(lam, "InvalidParameterValueException", 400, UNPUBLISHED,
            lam.update_alias, FunctionName=name, Name="live", FunctionVersion="$LATEST")
    alias = lam.get_alias(FunctionName=name, Name="live")
    assert (alias["FunctionVersion"], alias["RevisionId"]) == ("1", revision)

    moved = lam.update_alias(FunctionName=name, Name="live", FunctionVersion="3")
    assert moved["FunctionVersion"] == "3"
    ready(lam, name, "live")
    wait_for(lambda: provisioned_versions(lamb_server, name) == ["2", "3"], 30, 0.1, "environments to move to 3")
    resp, out = invoke(lam, name, {}, Qualifier="live")
    assert (resp["ExecutedVersion"], out["type"]) == ("3", "provisioned-concurrency")
    assert listed(lam, name) == {"2": 1, "live": 1}

    # A weighted alias with a config is what canary deployments make: allowed.
    weighted = lam.update_alias(FunctionName=name, Name="live",
                                RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
    assert weighted["RoutingConfig"] == {"AdditionalVersionWeights": {"1": 0.5}}
    assert lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")[
        "RequestedProvisionedConcurrentExecutions"] == 1
    # A version the alias sends a share to keeps its own rules: 1 has no provisioned alias over it.
    put(lam, name, "1")
    assert listed(lam, name) == {"1": 1, "2": 1, "live": 1}


def test_deleting_a_version_with_a_config_frees_its_share(fresh_server):
    """A deleted version's config no longer counts against the function's reservation
    (nor is it listed); a version an alias points to still cannot be deleted."""
    server = fresh_server()
    lam = server.client()
    name = versions(lam, 2)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    put(lam, name, "1", 2)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="2")
    refused(lam, "InvalidParameterValueException", 400,
            "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function",
            lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="live",
            ProvisionedConcurrentExecutions=1)
    refused(lam, "ResourceConflictException", 409,
            "Unable to delete version because the following aliases reference it: [live]",
            lam.delete_function, FunctionName=name, Qualifier="2")
    lam.delete_function(FunctionName=name, Qualifier="1")
    assert listed(lam, name) == {}
    put(lam, name, "live", 2)
    assert listed(lam, name) == {"live": 2}


def test_errors_of_get_and_delete(lam, lamb_server):
    """Recorded: $LATEST, unknown aliases and versions (even of an unknown function), and an
    idempotent delete."""
    name = versions(lam, 1)
    for call in (lam.get_provisioned_concurrency_config, lam.delete_provisioned_concurrency_config):
        refused(lam, "InvalidParameterValueException", 400, NOT_ALIAS_OR_VERSION,
                call, FunctionName=name, Qualifier="$LATEST")
        refused(lam, "ResourceNotFoundException", 404, f"Cannot find alias arn: {lamb_server.arn(name, 'noalias')}",
                call, FunctionName=name, Qualifier="noalias")
        refused(lam, "ResourceNotFoundException", 404, f"Function not found: {lamb_server.arn(name, '10')}",
                call, FunctionName=name, Qualifier="10")
        refused(lam, "ResourceNotFoundException", 404,
                f"Cannot find alias arn: {lamb_server.arn('doesnotexist', 'noalias')}",
                call, FunctionName="doesnotexist", Qualifier="noalias")
    refused(lam, "ResourceNotFoundException", 404, f"Function not found: {lamb_server.arn('doesnotexist', '1')}",
            lam.delete_provisioned_concurrency_config, FunctionName="doesnotexist", Qualifier="1")
    refused(lam, "ProvisionedConcurrencyConfigNotFoundException", 404,
            "No Provisioned Concurrency Config found for this function",
            lam.get_provisioned_concurrency_config, FunctionName=name, Qualifier="1")
    deleted = lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_errors_of_put(lam, lamb_server):
    """Recorded: the same not-found messages for Put, and $LATEST's own message."""
    name = versions(lam, 1)
    refused(lam, "InvalidParameterValueException", 400, UNPUBLISHED,
            lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="$LATEST",
            ProvisionedConcurrentExecutions=1)
    refused(lam, "ResourceNotFoundException", 404, f"Cannot find alias arn: {lamb_server.arn(name, 'doesnotexist')}",
            lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="doesnotexist",
            ProvisionedConcurrentExecutions=1)
    refused(lam, "ResourceNotFoundException", 404, f"Function not found: {lamb_server.arn(name, '10')}",
            lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="10",
            ProvisionedConcurrentExecutions=1)
    refused(lam, "ResourceNotFoundException", 404,
            f"Cannot find alias arn: {lamb_server.arn('doesnotexist', 'noalias')}",
            lam.put_provisioned_concurrency_config, FunctionName="doesnotexist", Qualifier="noalias",
            ProvisionedConcurrentExecutions=1)
    refused(lam, "ResourceNotFoundException", 404, f"Function not found: {lamb_server.arn('doesnotexist', '1')}",
            lam.put_provisioned_concurrency_config, FunctionName="doesnotexist", Qualifier="1",
            ProvisionedConcurrentExecutions=1)
