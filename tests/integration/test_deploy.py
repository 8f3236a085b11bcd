"""``lamb deploy``: real SAM / CloudFormation templates deployed to a real ``lamb serve``,
results checked through boto3 (and the function URL over HTTP)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .async_support import moto  # noqa: F401  (fixture)
from .conftest import invoke, unique, wait_for
from .deploy_support import deploy_env, fetch_url, lamb_cmd, stacks, write

SAM = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"


def _one_function(extra: str) -> str:
    """A template with one function ``Fn`` (code in code/, ``extra`` properties) and its name as output ``Name``."""
    return SAM + f"""
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {{Runtime: python3.12, Handler: fn.handler, CodeUri: code/, {extra}}}
Outputs:
  Name: {{Value: !Ref Fn}}
"""


def _stack() -> str:
    return unique("stack")


def _deploy(env, template, stack, *extra, check=True):
    return lamb_cmd("deploy", str(template), "--stack-name", stack, *extra, env=env, check=check)


def _outputs(stdout: str) -> dict[str, str]:
    lines = stdout.split("Outputs:\n", 1)[1].splitlines()
    return {line.split()[0]: line.split()[1] for line in lines if line.startswith("  ")}


def test_rest_app_with_function_url(lamb_server, lam, tmp_path):
    write(tmp_path, {
        "app/app.py": (
            "import json, os\n"
            "def handler(event, context):\n"
            "    return {'statusCode': 200, 'headers': {'content-type': 'application/json'},\n"
            "            'body': json.dumps({'path': event['rawPath'], 'method': event['requestContext']['http']['method'],\n"
            "                                'table': os.environ['TABLE']})}\n"),
        "template.yaml": SAM + """
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
Globals:
  Function: {Runtime: python3.12, Timeout: 10, MemorySize: 256}
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      CodeUri: app/
      Environment: {Variables: {TABLE: !Sub "items-${Stage}"}}
      FunctionUrlConfig:
        AuthType: NONE
        Cors: {AllowOrigins: ["*"]}
Outputs:
  ApiUrl: {Value: !GetAtt ApiUrl.FunctionUrl}
  ApiName: {Value: !Ref Api}
"""})
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = _stack()
    out = _deploy(env, tmp_path / "template.yaml", stack, "--parameter-overrides", "Stage=prod").stdout
    assert "CREATE_COMPLETE             AWS::Lambda::Function" in out
    outputs = _outputs(out)
    name = outputs["ApiName"]
    conf = lam.get_function_configuration(FunctionName=name)
    assert (conf["Runtime"], conf["Timeout"], conf["MemorySize"]) == ("python3.12", 10, 256)
    assert conf["Environment"]["Variables"] == {"TABLE": "items-prod"}
    url = lam.get_function_url_config(FunctionName=name)
    assert url["AuthType"] == "NONE" and url["Cors"]["AllowOrigins"] == ["*"]
    assert url["FunctionUrl"] == outputs["ApiUrl"]
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    assert {s["Action"] for s in policy["Statement"]} == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}
    status, body = fetch_url(lamb_server.url, url["FunctionUrl"], "/items/7")
    assert status == 200
    assert json.loads(body) == {"path": "/items/7", "method": "GET", "table": "items-prod"}
    assert stacks(env)[stack] == "CREATE_COMPLETE"
    lamb_cmd("deploy", "--delete", stack, env=env)


def test_layer_shared_by_two_functions(lamb_server, lam, tmp_path):
    write(tmp_path, {
        "shared/python/greet.py": "def greet(who):\n    return 'hello ' + who\n",
        "one/fn.py": "from greet import greet\ndef handler(e, c):\n    return greet('one')\n",
        "two/fn.py": "from greet import greet\ndef handler(e, c):\n    return greet('two')\n",
        "template.yaml": SAM + """
Globals:
  Function: {Runtime: python3.12, Handler: fn.handler, Layers: [!Ref Shared]}
Resources:
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: shared/, CompatibleRuntimes: [python3.12]}
  One: {Type: AWS::Serverless::Function, Properties: {CodeUri: one/}}
  Two: {Type: AWS::Serverless::Function, Properties: {CodeUri: two/}}
Outputs:
  One: {Value: !Ref One}
  Two: {Value: !Ref Two}
  Layer: {Value: !Ref Shared}
"""})
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = _stack()
    outputs = _outputs(_deploy(env, tmp_path / "template.yaml", stack).stdout)
    layer_arn = outputs["Layer"]
    assert lam.get_layer_version_by_arn(Arn=layer_arn)["CompatibleRuntimes"] == ["python3.12"]
    for key, word in (("One", "one"), ("Two", "two")):
        conf = lam.get_function_configuration(FunctionName=outputs[key])
        assert [layer["Arn"] for layer in conf["Layers"]] == [layer_arn]
        assert invoke(lam, outputs[key])[1] == f"hello {word}"
    lamb_cmd("deploy", "--delete", stack, env=env)


def test_auto_publish_alias_with_traffic_shifting(lamb_server, lam, tmp_path):
    template = SAM + """
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: fn.handler
      CodeUri: code/
      AutoPublishAlias: live
      DeploymentPreference: {Type: Canary10Percent5Minutes}
Outputs:
  Name: {Value: !Ref Fn}
"""
    write(tmp_path, {"code/fn.py": "def handler(e, c):\n    return 1\n", "template.yaml": template})
    # 5 minutes x 0.02: the canary step holds 6 s, long enough to be seen, no test waits for it
    env = deploy_env(lamb_server, tmp_path / "cache", LAMB_DEPLOY_TIME_SCALE="0.02")
    stack = _stack()
    name = _outputs(_deploy(env, tmp_path / "template.yaml", stack).stdout)["Name"]
    alias = lam.get_alias(FunctionName=name, Name="live")
    assert alias["FunctionVersion"] == "1"

    again = _deploy(env, tmp_path / "template.yaml", stack).stdout  # same code: no new version
    assert "No changes to deploy." in again.split("SKIPPED")[0] or "+ Add" not in again
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST", "1"]

    write(tmp_path, {"code/fn.py": "def handler(e, c):\n    return 2\n"})
    proc = subprocess.Popen([sys.executable, "-m", "lamb", "deploy", str(tmp_path / "template.yaml"),
                             "--stack-name", stack], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def canary():
            a = lam.get_alias(FunctionName=name, Name="live")
            return a["FunctionVersion"] == "1" and a.get("RoutingConfig", {}).get("AdditionalVersionWeights") == {"2": 0.1}
        wait_for(canary, 120, 0.05, "the canary step (10% to version 2)")
        # a second user deploying the same stack meanwhile is refused, not interleaved
        second = _deploy(env, tmp_path / "template.yaml", stack, check=False)
        assert second.returncode == 1 and f"stack {stack} is UPDATE_IN_PROGRESS" in second.stderr
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "traffic shifting: 10% to version 2, 90% to 1" in out
    alias = lam.get_alias(FunctionName=name, Name="live")
    assert alias["FunctionVersion"] == "2" and not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")
    assert invoke(lam, name, Qualifier="live")[1] == 2
    # SAM's versions are retained (DeletionPolicy Retain): version 1 is still there
    assert invoke(lam, name, Qualifier="1")[1] == 1
    assert "DELETE_SKIPPED" in out
    lamb_cmd("deploy", "--delete", stack, env=env)


def _keep_and_drop(mode: str, retries: int, with_drop: bool) -> str:
    """Keep (env MODE, event invoke config; reserved concurrency and Drop only in the first version)."""
    extra = "      ReservedConcurrentExecutions: 3\n" if with_drop else ""
    drop = "  Drop:\n    Type: AWS::Serverless::Function\n" if with_drop else ""
    return SAM + f"""
Globals:
  Function: {{Runtime: python3.12, Handler: fn.handler, CodeUri: code/}}
Resources:
  Keep:
    Type: AWS::Serverless::Function
    Properties:
      Environment: {{Variables: {{MODE: {mode}}}}}
      EventInvokeConfig: {{MaximumRetryAttempts: {retries}}}
{extra}{drop}Outputs:
  Keep: {{Value: !Ref Keep}}
""" + ("  Drop: {Value: !Ref Drop}\n" if with_drop else "")


V1 = _keep_and_drop("one", 1, True)
V2 = _keep_and_drop("two", 0, False)


def test_redeploy_changes_and_removes_resources_and_dry_run_applies_nothing(lamb_server, lam, tmp_path):
    write(tmp_path, {"code/fn.py": "import os\ndef handler(e, c):\n    return os.environ['MODE']\n", "t.yaml": V1})
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = _stack()
    outputs = _outputs(_deploy(env, tmp_path / "t.yaml", stack).stdout)
    keep, drop = outputs["Keep"], outputs["Drop"]
    assert lam.get_function_concurrency(FunctionName=keep)["ReservedConcurrentExecutions"] == 3
    assert lam.get_function_event_invoke_config(FunctionName=keep, Qualifier="$LATEST")["MaximumRetryAttempts"] == 1

    write(tmp_path, {"t.yaml": V2})
    dry = _deploy(env, tmp_path / "t.yaml", stack, "--dry-run").stdout
    assert "* Modify" in dry and "Keep " in dry
    assert "- Delete" in dry and "Drop " in dry
    assert "IN_PROGRESS" not in dry
    lam.get_function(FunctionName=drop)  # still there
    assert invoke(lam, keep)[1] == "one"

    out = _deploy(env, tmp_path / "t.yaml", stack).stdout
    assert "UPDATE_COMPLETE             AWS::Lambda::Function                 Keep" in out
    assert "DELETE_COMPLETE             AWS::Lambda::Function                 Drop" in out
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=drop)
    assert lam.get_function_configuration(FunctionName=keep)["Environment"]["Variables"] == {"MODE": "two"}
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=keep)
    assert lam.get_function_event_invoke_config(FunctionName=keep, Qualifier="$LATEST")["MaximumRetryAttempts"] == 0
    assert invoke(lam, keep)[1] == "two"
    assert stacks(env)[stack] == "UPDATE_COMPLETE"
    lamb_cmd("deploy", "--delete", stack, env=env)


def test_dry_run_of_a_new_stack_creates_nothing(lamb_server, lam, tmp_path):
    name = unique("dry")
    write(tmp_path, {"code/fn.py": "def handler(e, c):\n    return 1\n", "t.yaml": SAM + f"""
Resources:
  Fn: {{Type: AWS::Serverless::Function, Properties: {{FunctionName: {name}, Runtime: python3.12, Handler: fn.handler, CodeUri: code/}}}}
"""})
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = _stack()
    out = _deploy(env, tmp_path / "t.yaml", stack, "--dry-run").stdout
    assert "+ Add" in out and "AWS::Lambda::Function" in out
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name)
    assert stack not in stacks(env)


def test_delete_removes_the_stack_and_its_resources(lamb_server, lam, tmp_path):
    write(tmp_path, {"code/fn.py": "def handler(e, c):\n    return 1\n", "t.yaml": _one_function(
        "AutoPublishAlias: live, FunctionUrlConfig: {AuthType: AWS_IAM}, "
        "ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 1}")})
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = _stack()
    name = _outputs(_deploy(env, tmp_path / "t.yaml", stack).stdout)["Name"]
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    pc = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
    assert pc["RequestedProvisionedConcurrentExecutions"] == 1
    assert stacks(env)[stack] == "CREATE_COMPLETE"
    out = lamb_cmd("deploy", "--delete", stack, env=env).stdout
    assert "DELETE_COMPLETE             AWS::Lambda::Url" in out
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name)
    assert stack not in stacks(env)
    missing = lamb_cmd("deploy", "--delete", stack, env=env, check=False)
    assert missing.returncode == 1 and f"Stack with id {stack} does not exist" in missing.stderr


def test_other_services_without_an_endpoint_are_skipped_and_listed(lamb_server, lam, tmp_path):
    write(tmp_path, {"code/fn.py": "import os\ndef handler(e, c):\n    return os.environ['QUEUE']\n", "t.yaml": SAM + """
Resources:
  Queue: {Type: AWS::SQS::Queue, Properties: {QueueName: jobs}}
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: fn.handler, CodeUri: code/, Environment: {Variables: {QUEUE: !GetAtt Queue.Arn}}}
Outputs:
  Name: {Value: !Ref Fn}
"""})
    env = deploy_env(lamb_server, tmp_path / "cache")  # AWS_ENDPOINT_URL is Lamb: no SQS endpoint
    out = _deploy(env, tmp_path / "t.yaml", (stack := _stack())).stdout
    assert "SKIPPED                     AWS::SQS::Queue                       Queue" in out
    assert "skipped: no sqs endpoint configured" in out
    # the function's role SAM generates is created in Lamb's own IAM (CreateFunction checks it)
    role = lam.get_function_configuration(FunctionName=_outputs(out)["Name"])["Role"]
    assert role.split("/")[-1].startswith(f"{stack}-FnRole-")
    assert lamb_server.client("iam").get_role(RoleName=role.split("/")[-1])["Role"]["Arn"] == role
    # with the AWS managed policy SAM gives it, which Lamb's IAM holds (it used to be left unattached)
    attached = lamb_server.client("iam").list_attached_role_policies(RoleName=role.split("/")[-1])["AttachedPolicies"]
    assert attached == [{"PolicyName": "AWSLambdaBasicExecutionRole",
                         "PolicyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}]
    assert invoke(lam, _outputs(out)["Name"])[1] == "arn:aws:sqs:us-east-1:000000000000:jobs"
    lamb_cmd("deploy", "--delete", stack, env=env)


CFN_JSON = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"Env": {"Type": "String", "Default": "test"}, "Memory": {"Type": "Number", "Default": "192"},
                   "Names": {"Type": "CommaDelimitedList", "Default": "alpha,beta"}},
    "Mappings": {"Sizes": {"test": {"Timeout": 7}, "prod": {"Timeout": 30}}},
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                   "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]}},
    "Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.12", "Handler": "index.handler", "MemorySize": {"Ref": "Memory"},
            "Role": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/inline"},
            "Timeout": {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Timeout"]},
            "Code": {"ZipFile": "import os\ndef handler(e, c):\n    return dict(os.environ)['WHO']\n"},
            "Environment": {"Variables": {
                "WHO": {"Fn::Join": ["-", [{"Fn::Select": [1, {"Ref": "Names"}]},
                                           {"Fn::Select": [0, {"Fn::Split": [".", "x.y"]}]},
                                           {"Fn::If": ["IsProd", "p", "np"]}]]}}}}},
        "ProdOnly": {"Type": "AWS::Lambda::Function", "Condition": "IsProd", "Properties": {
            "Runtime": "python3.12", "Handler": "index.handler", "Role": "arn:aws:iam::000000000000:role/x",
            "Code": {"ZipFile": "def handler(e, c):\n    return 0\n"}}},
    },
    "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Fn", "Arn"]}, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-arn"}}},
                "Name": {"Value": {"Ref": "Fn"}}},
}


def test_plain_cloudformation_json_intrinsics_and_import_value(lamb_server, lam, tmp_path):
    (tmp_path / "cfn.json").write_text(json.dumps(CFN_JSON))
    lamb_server.ensure_role("arn:aws:iam::000000000000:role/inline")  # the template names it, as on AWS
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = _stack()
    out = _deploy(env, tmp_path / "cfn.json", stack, "--parameter-overrides", "ParameterKey=Memory,ParameterValue=320").stdout
    assert "ProdOnly" not in out  # its condition is false
    name = _outputs(out)["Name"]
    conf = lam.get_function_configuration(FunctionName=name)
    assert (conf["MemorySize"], conf["Timeout"]) == (320, 7)
    assert conf["Role"] == "arn:aws:iam::000000000000:role/inline"
    assert invoke(lam, name)[1] == "beta-x-np"

    (tmp_path / "b").mkdir()
    write(tmp_path / "b", {"code/fn.py": "import os\ndef handler(e, c):\n    return os.environ['UP']\n", "t.yaml": SAM + f"""
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {{Runtime: python3.12, Handler: fn.handler, CodeUri: code/,
                 Environment: {{Variables: {{UP: !ImportValue {stack}-arn}}}}}}
Outputs:
  Name: {{Value: !Ref Fn}}
"""})
    other = _stack()
    name_b = _outputs(_deploy(env, tmp_path / "b" / "t.yaml", other).stdout)["Name"]
    assert invoke(lam, name_b)[1] == conf["FunctionArn"]
    lamb_cmd("deploy", "--delete", other, env=env)
    lamb_cmd("deploy", "--delete", stack, env=env)


def test_failed_deploy_rolls_back_to_the_previous_state(lamb_server, lam, tmp_path):
    write(tmp_path, {"code/fn.py": "import os\ndef handler(e, c):\n    return os.environ['MODE']\n", "t.yaml": SAM + """
Globals:
  Function: {Runtime: python3.12, Handler: fn.handler, CodeUri: code/}
Resources:
  Keep:
    Type: AWS::Serverless::Function
    Properties: {Environment: {Variables: {MODE: one}}}
Outputs:
  Keep: {Value: !Ref Keep}
"""})
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = _stack()
    keep = _outputs(_deploy(env, tmp_path / "t.yaml", stack).stdout)["Keep"]
    bad = unique("bad")
    write(tmp_path, {"t.yaml": SAM + f"""
Globals:
  Function: {{Runtime: python3.12, Handler: fn.handler, CodeUri: code/}}
Resources:
  Keep:
    Type: AWS::Serverless::Function
    Properties: {{Environment: {{Variables: {{MODE: two}}}}}}
  Broken:
    Type: AWS::Serverless::Function
    DependsOn: Keep
    Properties: {{FunctionName: {bad}, Runtime: python0.1}}
"""})
    failed = _deploy(env, tmp_path / "t.yaml", stack, check=False)
    assert failed.returncode == 1
    assert "deploy failed" in failed.stdout and "UPDATE_ROLLBACK_COMPLETE" in failed.stdout
    assert lam.get_function_configuration(FunctionName=keep)["Environment"]["Variables"] == {"MODE": "one"}
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=bad)
    assert stacks(env)[stack] == "UPDATE_ROLLBACK_COMPLETE"
    lamb_cmd("deploy", "--delete", stack, env=env)


def test_watch_redeploys_when_code_changes(lamb_server, lam, tmp_path):
    write(tmp_path, {"code/fn.py": "def handler(e, c):\n    return 'first'\n", "t.yaml": SAM + """
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: fn.handler, CodeUri: code/, FunctionName: %s}
""" % (name := unique("watch"))})
    env = deploy_env(lamb_server, tmp_path / "cache", LAMB_DEPLOY_WATCH_INTERVAL="0.1")
    stack = _stack()
    proc = subprocess.Popen([sys.executable, "-m", "lamb", "deploy", str(tmp_path / "t.yaml"), "--stack-name", stack,
                             "--watch"], env=env, stdout=(log := open(tmp_path / "watch.log", "w")), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _returns(lam, name) == "first", 120, 0.1, "the first deploy")
        write(tmp_path, {"code/fn.py": "def handler(e, c):\n    return 'second'\n"})
        wait_for(lambda: _returns(lam, name) == "second", 120, 0.1, "the re-deploy of the changed code")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    assert "Change detected: deploying" in (tmp_path / "watch.log").read_text()
    lamb_cmd("deploy", "--delete", stack, env=env)


def _returns(lam, name):
    try:
        return invoke(lam, name)[1]
    except (lam.exceptions.ResourceNotFoundException, lam.exceptions.ResourceConflictException):
        return None  # not created yet, or still Pending


def test_sam_build_output_and_default_stack_name(lamb_server, lam, tmp_path):
    project = tmp_path / unique("proj")
    write(project, {
        ".aws-sam/build/HelloFunction/app.py": "def handler(e, c):\n    return 'built'\n",
        ".aws-sam/build/template.yaml": SAM + """
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.handler, CodeUri: HelloFunction}
Outputs:
  Name: {Value: !Ref HelloFunction}
"""})
    env = deploy_env(lamb_server, tmp_path / "cache")
    out = lamb_cmd("deploy", str(project / ".aws-sam" / "build" / "template.yaml"), env=env).stdout
    assert f"Successfully created/updated stack - {project.name}" in out
    assert invoke(lam, _outputs(out)["Name"])[1] == "built"
    assert stacks(env)[project.name] == "CREATE_COMPLETE"
    lamb_cmd("deploy", "--delete", project.name, env=env)


def test_code_from_s3_uses_the_configured_s3_endpoint(lamb_server, lam, moto, tmp_path):
    from .conftest import make_zip

    bucket = unique("code")
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="fn.zip", Body=make_zip({"fn.py": "def handler(e, c):\n    return 's3'\n"}))
    write(tmp_path, {"t.yaml": SAM + f"""
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {{Runtime: python3.12, Handler: fn.handler, CodeUri: s3://{bucket}/fn.zip}}
Outputs:
  Name: {{Value: !Ref Fn}}
"""})
    env = deploy_env(lamb_server, tmp_path / "cache", AWS_ENDPOINT_URL=moto.url,
                     AWS_ENDPOINT_URL_LAMBDA=lamb_server.url)
    out = _deploy(env, tmp_path / "t.yaml", (stack := _stack())).stdout
    assert invoke(lam, _outputs(out)["Name"])[1] == "s3"
    lamb_cmd("deploy", "--delete", stack, env=env)


def test_a_deploy_killed_halfway_leaves_a_record_and_force_continues(lamb_server, lam, tmp_path):
    write(tmp_path, {"code/fn.py": "def handler(e, c):\n    return 1\n", "t.yaml": _one_function(
        "AutoPublishAlias: live, DeploymentPreference: {Type: Canary10Percent30Minutes}")})
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = _stack()
    name = _outputs(_deploy(env, tmp_path / "t.yaml", stack).stdout)["Name"]
    write(tmp_path, {"code/fn.py": "def handler(e, c):\n    return 2\n"})
    # the canary step holds 30 minutes: the deploy is killed while it holds
    proc = subprocess.Popen([sys.executable, "-m", "lamb", "deploy", str(tmp_path / "t.yaml"), "--stack-name", stack],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: lam.get_alias(FunctionName=name, Name="live").get("RoutingConfig", {})
                 .get("AdditionalVersionWeights") == {"2": 0.1}, 120, 0.05, "the canary step")
    finally:
        proc.kill()
        proc.wait()
    assert stacks(env)[stack] == "UPDATE_IN_PROGRESS"
    refused = _deploy(env, tmp_path / "t.yaml", stack, check=False)
    assert refused.returncode == 1 and "--force continues from its record" in refused.stderr
    fast = dict(env, LAMB_DEPLOY_TIME_SCALE="0")
    out = _deploy(fast, tmp_path / "t.yaml", stack, "--force").stdout
    assert "UPDATE_COMPLETE             AWS::Lambda::Alias" in out
    alias = lam.get_alias(FunctionName=name, Name="live")
    assert alias["FunctionVersion"] == "2" and not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")
    # the version published before the kill was recorded: no third version
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST", "1", "2"]
    assert stacks(env)[stack] == "UPDATE_COMPLETE"
    lamb_cmd("deploy", "--delete", stack, env=env)
