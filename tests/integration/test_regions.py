"""State per account and region (issue 19 item 9, issue 17 "Accounts"): boto3 clients in two
regions and two accounts against one Lamb, as AWS keeps Lambda's state per region and account."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from urllib.parse import quote, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError

from .conftest import LambServer, client_config, create, invoke, make_zip, unique, wait_for

OTHER = "eu-west-1"
SCALE = 0.05  # a rate(1 minute) rule ticks every 3 s
ENV = {"LAMB_AUTH": "on", "LAMB_SCHEDULE_TIME_SCALE": str(SCALE)}
ECHO = "import json, os\n\ndef handler(event, context):\n    print('EVENT ' + json.dumps(event))\n" \
       "    return {'region': os.environ['AWS_REGION'], 'arn': context.invoked_function_arn, 'event': event}\n"


def regional(server: LambServer, service: str, region: str, profile: str = "default"):
    return boto3.client(service, endpoint_url=server.url, region_name=region, config=client_config(),
                        **server.credentials(profile))


def with_role(server: LambServer, profile: str = "default") -> LambServer:
    """The functions' role in the profile's account, created as a user would before CreateFunction
    (the server's own account has it already: LambServer makes it at start)."""
    iam = server.client("iam", profile=profile)
    try:
        iam.create_role(RoleName="lamb-test", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    return server


def second_account(server: LambServer) -> str:
    """``lamb accounts create``: a second account, its root key in profile ``account-<id>``, and its role."""
    out = subprocess.run([sys.executable, "-m", "lamb", "accounts", "create", "--data-dir", str(server.data_dir)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    account = re.search(r"account (\d{12})", out.stdout).group(1)
    with_role(server, f"account-{account}")
    return account


def role(account: str) -> str:
    return f"arn:aws:iam::{account}:role/lamb-test"


def arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def logged(server: LambServer, fn: str, region: str = OTHER) -> list:
    """The EVENT lines of ``fn``'s log group in ``region`` (log groups are per region)."""
    group = quote(f"/aws/lambda/{fn}", safe="")
    where = f"&region={region}"
    out = []
    for stream in server.get_json(f"/_lamb/logs?group={group}{where}")["streams"]:
        for _, line in server.get_json(f"/_lamb/logs?group={group}&stream={quote(stream, safe='')}{where}")["events"]:
            if line.startswith("EVENT "):
                out.append(json.loads(line[6:]))
    return out


@pytest.fixture(scope="module")
def server():
    s = LambServer(env=ENV).start()
    try:
        yield with_role(s)
    finally:
        s.close()


def test_same_name_in_two_regions_is_two_functions(server):
    home, other = server.client(), regional(server, "lambda", OTHER)
    name = unique()
    a = create(home, name, ECHO, Description="home")
    b = create(other, name, ECHO, Description="other", MemorySize=256)
    assert a["FunctionArn"] == arn(server.region, server.account_id, name)
    assert b["FunctionArn"] == arn(OTHER, server.account_id, name)
    assert home.get_function(FunctionName=name)["Configuration"]["Description"] == "home"
    got = other.get_function(FunctionName=name)["Configuration"]
    assert (got["Description"], got["MemorySize"], got["FunctionArn"]) == ("other", 256, b["FunctionArn"])
    _, out = invoke(other, name, {"k": 1})
    assert out == {"region": OTHER, "arn": b["FunctionArn"], "event": {"k": 1}}
    _, out = invoke(home, name, {"k": 2})
    assert out["region"] == server.region and out["arn"] == a["FunctionArn"]
    v = other.publish_version(FunctionName=name)
    assert v["FunctionArn"] == b["FunctionArn"] + ":1" and v["Version"] == "1"
    assert [x["Version"] for x in home.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST"]
    # deleting one region's function leaves the other's
    other.delete_function(FunctionName=name)
    assert home.get_function(FunctionName=name)["Configuration"]["FunctionArn"] == a["FunctionArn"]
    with pytest.raises(ClientError) as e:
        other.get_function(FunctionName=name)
    assert e.value.response["Error"]["Message"] == f"Function not found: {b['FunctionArn']}"


def test_list_functions_and_account_settings_are_per_region(server):
    home, third = server.client(), regional(server, "lambda", "ap-southeast-2")
    name = unique()
    create(third, name, ECHO)
    listed = [f["FunctionName"] for f in third.get_paginator("list_functions").paginate().build_full_result()["Functions"]]
    assert listed == [name]
    assert name not in [f["FunctionName"] for f in
                        home.get_paginator("list_functions").paginate().build_full_result()["Functions"]]
    assert third.get_account_settings()["AccountUsage"]["FunctionCount"] == 1
    assert third.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == \
        home.get_account_settings()["AccountLimit"]["ConcurrentExecutions"]


def test_a_function_arn_of_another_region_is_not_reachable(server):
    home, other = server.client(), regional(server, "lambda", OTHER)
    name = unique()
    create(other, name, ECHO)
    with pytest.raises(ClientError) as e:
        home.get_function(FunctionName=arn(OTHER, server.account_id, name))
    assert (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"],
            e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "ResourceNotFoundException", f"Functions from '{OTHER}' are not reachable in this region ('{server.region}')", 404)


def test_layers_are_per_region_and_a_layer_of_another_region_is_refused(server):
    home, other = server.client(), regional(server, "lambda", OTHER)
    layer = unique("layer")
    published = other.publish_layer_version(LayerName=layer, Content={"ZipFile": make_zip({"python/x.py": "X = 1\n"})})
    assert published["LayerVersionArn"] == f"arn:aws:lambda:{OTHER}:{server.account_id}:layer:{layer}:1"
    assert layer in [x["LayerName"] for x in other.list_layers()["Layers"]]
    assert layer not in [x["LayerName"] for x in home.list_layers()["Layers"]]
    with pytest.raises(ClientError) as e:
        home.get_layer_version(LayerName=layer, VersionNumber=1)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    name = unique()
    create(home, name, ECHO)  # the name exists: the region is checked before the conflict
    with pytest.raises(ClientError) as e:
        create(home, name, ECHO, Layers=[published["LayerVersionArn"]], wait=False)
    assert (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]) == (
        "InvalidParameterValueException",
        f"Layers are not in the same region as the function. Layers are expected to be in region {server.region}.")
    # in its own region the layer works
    used = create(other, unique(), ECHO, Layers=[published["LayerVersionArn"]])
    assert used["Layers"][0]["Arn"] == published["LayerVersionArn"]


def test_code_signing_configs_and_signing_profiles_are_per_region(server):
    home, other = server.client(), regional(server, "lambda", OTHER)
    home_signer, other_signer = regional(server, "signer", server.region), regional(server, "signer", OTHER)
    profile = unique("prof").replace("-", "")
    made = home_signer.put_signing_profile(profileName=profile, platformId="AWSLambda-SHA384-ECDSA")
    assert made["arn"] == f"arn:aws:signer:{server.region}:{server.account_id}:/signing-profiles/{profile}"
    assert profile in [p["profileName"] for p in home_signer.list_signing_profiles()["profiles"]]
    assert profile not in [p["profileName"] for p in other_signer.list_signing_profiles()["profiles"]]
    config = home.create_code_signing_config(
        AllowedPublishers={"SigningProfileVersionArns": [made["profileVersionArn"]]})["CodeSigningConfig"]
    arn_ = config["CodeSigningConfigArn"]
    assert arn_.startswith(f"arn:aws:lambda:{server.region}:{server.account_id}:code-signing-config:csc-")
    assert arn_ in [c["CodeSigningConfigArn"] for c in home.list_code_signing_configs()["CodeSigningConfigs"]]
    assert arn_ not in [c["CodeSigningConfigArn"] for c in other.list_code_signing_configs()["CodeSigningConfigs"]]
    with pytest.raises(ClientError) as e:
        other.get_code_signing_config(CodeSigningConfigArn=arn_)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    # A function in another region cannot name it (AWS's answer for a config that does not exist).
    with pytest.raises(ClientError) as e:
        create(other, unique(), ECHO, CodeSigningConfigArn=arn_, wait=False)
    assert (e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "CodeSigningConfigNotFoundException", 404)
    # The other region's own config has that region's ARN.
    theirs = other.create_code_signing_config(
        AllowedPublishers={"SigningProfileVersionArns": [made["profileVersionArn"]]})["CodeSigningConfig"]
    assert theirs["CodeSigningConfigArn"].startswith(f"arn:aws:lambda:{OTHER}:{server.account_id}:code-signing-config:")
    assert theirs["CodeSigningConfigArn"] not in [
        c["CodeSigningConfigArn"] for c in home.list_code_signing_configs()["CodeSigningConfigs"]]


def test_two_accounts_keep_their_own_functions(server):
    account = second_account(server)
    mine, theirs = server.client(), server.client(profile=f"account-{account}")
    name = unique()
    create(mine, name, "def handler(e, c):\n    return 'home'\n")
    assert theirs.list_functions()["Functions"] == []
    b = create(theirs, name, "def handler(e, c):\n    return 'theirs'\n", Role=role(account))
    assert b["FunctionArn"] == arn(server.region, account, name)
    assert invoke(theirs, name)[1] == "theirs" and invoke(mine, name)[1] == "home"
    assert [f["FunctionArn"] for f in theirs.list_functions()["Functions"]] == [b["FunctionArn"]]
    # the home account's function, named by ARN: its resource policy decides
    home_arn = arn(server.region, server.account_id, name)
    with pytest.raises(ClientError) as e:
        theirs.invoke(FunctionName=home_arn)
    assert (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]) == (
        "AccessDeniedException",
        f"User: arn:aws:iam::{account}:root is not authorized to perform: lambda:InvokeFunction on resource: "
        f"{home_arn} because no resource-based policy allows the lambda:InvokeFunction action")
    mine.add_permission(FunctionName=name, StatementId="other", Action="lambda:InvokeFunction", Principal=account)
    assert json.loads(theirs.invoke(FunctionName=home_arn)["Payload"].read()) == "home"
    with pytest.raises(ClientError) as e:  # and the other way round
        mine.get_function(FunctionName=b["FunctionArn"])
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    theirs.add_permission(FunctionName=name, StatementId="home", Action="lambda:InvokeFunction",
                          Principal=server.account_id)
    assert json.loads(mine.invoke(FunctionName=b["FunctionArn"])["Payload"].read()) == "theirs"
    # the other account in another region is a fourth scope
    far = regional(server, "lambda", OTHER, profile=f"account-{account}")
    assert name not in [f["FunctionName"] for f in far.list_functions()["Functions"]]


def test_async_and_schedules_run_in_another_region(server):
    other = regional(server, "lambda", OTHER)
    name = unique()
    fn_arn = create(other, name, ECHO)["FunctionArn"]
    assert other.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"async": 1}')["StatusCode"] == 202
    wait_for(lambda: {"async": 1} in logged(server, name), 30, 0.1, "the event to run in eu-west-1")
    events = regional(server, "events", OTHER)
    rule = unique("rule")
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)")["RuleArn"]
    assert rule_arn == f"arn:aws:events:{OTHER}:{server.account_id}:rule/{rule}"
    other.add_permission(FunctionName=name, StatementId="events", Action="lambda:InvokeFunction",
                         Principal="events.amazonaws.com", SourceArn=rule_arn)
    events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": fn_arn}])
    ticks = wait_for(lambda: [e for e in logged(server, name) if e.get("source") == "aws.events"], 60, 0.2,
                     "a scheduled tick in eu-west-1")
    assert ticks[0]["region"] == OTHER and ticks[0]["resources"] == [rule_arn]
    assert rule not in [r["Name"] for r in regional(server, "events", server.region).list_rules()["Rules"]]
    events.remove_targets(Rule=rule, Ids=["t"])


def test_restart_keeps_every_scope(fresh_server):
    server = with_role(fresh_server(env=ENV))
    account = second_account(server)
    other, theirs = regional(server, "lambda", OTHER), server.client(profile=f"account-{account}")
    name = unique()
    create(other, name, ECHO, Description="eu")
    version = other.publish_version(FunctionName=name)["Version"]
    other.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
    ready = lambda: other.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)["Status"] == "READY"  # noqa: E731
    wait_for(ready, 60, 0.1, "provisioned concurrency in eu-west-1")
    create(theirs, name, "def handler(e, c):\n    return 'theirs'\n", Description="theirs", Role=role(account))
    create(server.client(), name, ECHO, Description="home")
    assert (server.data_dir / "lamb.db").exists()  # the home account in the default region keeps today's file
    assert (server.data_dir / "accounts" / account / server.region / "lamb.db").exists()
    assert (server.data_dir / "accounts" / server.account_id / OTHER / "lamb.db").exists()
    server.terminate()
    server.restart()
    other, theirs = regional(server, "lambda", OTHER), server.client(profile=f"account-{account}")
    assert other.get_function(FunctionName=name)["Configuration"]["Description"] == "eu"
    assert theirs.get_function(FunctionName=name)["Configuration"]["Description"] == "theirs"
    assert server.client().get_function(FunctionName=name)["Configuration"]["Description"] == "home"
    wait_for(ready, 60, 0.1, "provisioned concurrency in eu-west-1 again after the restart")
    assert any(e["provisioned"] and e["function"] == f"{server.account_id}:{OTHER}:{name}"
               for e in server.get_json("/_lamb/environments"))
    assert invoke(other, name, {"x": 1})[1]["region"] == OTHER
    assert invoke(theirs, name)[1] == "theirs"
    assert sorted(server.get_json("/_lamb/health")["scopes"]) == sorted(
        [f"{server.account_id}/{server.region}", f"{server.account_id}/{OTHER}", f"{account}/{server.region}"])


def _get(server: LambServer, path: str, host: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("GET", path, headers={"Host": host} if host else {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_function_urls_and_http_apis_of_another_region(server):
    other = regional(server, "lambda", OTHER)
    name = unique()
    fn_arn = create(other, name, ECHO)["FunctionArn"]
    url = other.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    host = urlsplit(url).netloc
    assert host.split(":")[0].endswith(f".lambda-url.{OTHER}.localhost")
    other.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl", Principal="*",
                         FunctionUrlAuthType="NONE")
    other.add_permission(FunctionName=name, StatementId="via-url", Action="lambda:InvokeFunction", Principal="*",
                         InvokedViaFunctionUrl=True)
    url_id = host.split(".")[0]
    for path, by_host in (("/x", host), (f"/_lamb/url/{url_id}/x", None)):
        status, body = _get(server, path, by_host)
        assert status == 200, body
        assert json.loads(body)["region"] == OTHER and json.loads(body)["event"]["rawPath"] == "/x"
    apis = regional(server, "apigatewayv2", OTHER)
    api = apis.create_api(Name="regional", ProtocolType="HTTP", Target=fn_arn)
    assert api["ApiEndpoint"] == f"http://{api['ApiId']}.execute-api.{OTHER}.localhost:{server.port}"
    assert api["ApiId"] not in [a["ApiId"] for a in regional(server, "apigatewayv2", server.region).get_apis()["Items"]]
    other.add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                         Principal="apigateway.amazonaws.com",
                         SourceArn=f"arn:aws:execute-api:{OTHER}:{server.account_id}:{api['ApiId']}/*/$default")
    status, body = _get(server, "/hello", urlsplit(api["ApiEndpoint"]).netloc)
    assert status == 200, body
    assert json.loads(body)["region"] == OTHER


def test_reserved_concurrency_is_per_region(server):
    home, other = server.client(), regional(server, "lambda", OTHER)
    name = unique()
    create(home, name, ECHO)
    create(other, name, ECHO)
    other.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as e:
        other.invoke(FunctionName=name)
    assert (e.value.response["Error"]["Code"], e.value.response["Reason"]) == (
        "TooManyRequestsException", "ReservedFunctionConcurrentInvocationLimitExceeded")
    assert invoke(home, name, {"k": 1})[1]["event"] == {"k": 1}  # the home region's function is not reserved
    assert "ReservedConcurrentExecutions" not in home.get_function(FunctionName=name).get("Concurrency", {})
    other.delete_function_concurrency(FunctionName=name)
    assert invoke(other, name, {"k": 2})[1]["region"] == OTHER


def test_metrics_are_per_region(server):
    """CloudWatch keeps metrics per account and region: same-named functions of two regions do
    not mix in GetMetricData/GetMetricStatistics/ListMetrics, and Prometheus labels them."""
    import datetime as dt
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    home, other = server.client(), regional(server, "lambda", OTHER)
    name, home_only = unique("cw"), unique("cw-home")
    for client in (home, other):
        create(client, name, ECHO)
    create(home, home_only, ECHO)
    for _ in range(2):
        invoke(home, name, {})
    invoke(home, home_only, {})
    for _ in range(3):
        invoke(other, name, {})
    assert other.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    now = dt.datetime.now(dt.timezone.utc)
    span = {"StartTime": now - dt.timedelta(minutes=30), "EndTime": now + dt.timedelta(minutes=30)}

    def total(cw, metric: str, fn: str) -> float:
        out = cw.get_metric_data(MetricDataQueries=[{"Id": "m", "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": metric,
                       "Dimensions": [{"Name": "FunctionName", "Value": fn}]},
            "Period": 3600, "Stat": "Sum"}}], **span)
        return sum(out["MetricDataResults"][0]["Values"])

    cw_home, cw_other = server.client("cloudwatch"), regional(server, "cloudwatch", OTHER)
    wait_for(lambda: total(cw_other, "Invocations", name) == 4, 60, 0.2, "the async invocation in eu-west-1")
    assert total(cw_home, "Invocations", name) == 2
    assert total(cw_other, "AsyncEventsReceived", name) == 1
    assert total(cw_home, "AsyncEventsReceived", name) == 0

    def listed(cw) -> set:
        return {d["Value"] for m in cw.list_metrics(Namespace="AWS/Lambda", MetricName="Invocations")["Metrics"]
                for d in m["Dimensions"] if d["Name"] == "FunctionName"}

    in_other = listed(cw_other)
    assert name in in_other and home_only not in in_other
    assert {name, home_only} <= listed(cw_home)

    def region_matches_its_functions() -> bool:
        """No dimensions: every function of the region, and only those (polled: another test's
        function of the region may still be invoked between the reads)."""
        stats = cw_other.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations", Period=3600,
                                               Statistics=["Sum"], **span)
        return [p["Sum"] for p in stats["Datapoints"]] == [sum(total(cw_other, "Invocations", fn)
                                                               for fn in listed(cw_other))]

    wait_for(region_matches_its_functions, 30, 0.5, "eu-west-1's total to be its functions' sum")

    def introspected(region: str) -> float:  # /_lamb/metrics, the home scope's unless told
        where = f"&region={region}" if region != server.region else ""
        series = server.get_json(f"/_lamb/metrics?metric=Invocations&FunctionName={name}{where}")
        return sum(p["sum"] for s in series for p in s["points"])

    assert (introspected(server.region), introspected(OTHER)) == (2, 4)

    with urllib.request.urlopen(server.url + "/metrics") as r:
        text = r.read().decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}

    def labels(region: str) -> tuple:
        return (("account", server.account_id), ("faas_name", name), ("faas_version", "$LATEST"), ("region", region))

    assert samples[("faas_invocations_total", labels(server.region))] == 2
    assert samples[("faas_invocations_total", labels(OTHER))] == 4
    assert samples[("aws_lambda_account_concurrent_executions",
                    (("account", server.account_id), ("region", OTHER)))] == 0


def test_log_groups_are_per_region(server):
    """Same-named functions of two regions write two log groups, each read through its region's
    CloudWatch Logs API."""
    home, other = server.client(), regional(server, "lambda", OTHER)
    name = unique("logs")
    for client in (home, other):
        create(client, name, ECHO)
    invoke(home, name, {"where": "home"})
    invoke(other, name, {"where": "other"})
    group = f"/aws/lambda/{name}"

    def events(region: str) -> list:
        logs = regional(server, "logs", region)
        return [json.loads(e["message"][6:]) for e in logs.filter_log_events(logGroupName=group)["events"]
                if e["message"].startswith("EVENT ")]

    assert wait_for(lambda: events(OTHER), 30, 0.1, "the eu-west-1 function's lines") == [{"where": "other"}]
    assert wait_for(lambda: events(server.region), 30, 0.1, "the home function's lines") == [{"where": "home"}]
    described = regional(server, "logs", OTHER).describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["arn"] for g in described] == [f"arn:aws:logs:{OTHER}:{server.account_id}:log-group:{group}:*"]
    assert logged(server, name, server.region) == [{"where": "home"}]
    third = regional(server, "logs", "ap-northeast-1")  # a region where the function does not exist
    assert third.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
