"""Answers as AWS gives them (issue 19): tags (item 5), logging config defaults (6),
concurrency messages (7), layers and account usage (8), names and ARNs (4).
Each asserts the exact code, status and message recorded from AWS."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .awscli import aws, aws_json
from .conftest import ROLE, error_of as err, create, invoke, make_zip, unique, wait_for

CODE = "def handler(e, c):\n    return 'ok'\n"


def refused(call, **kw) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as e:
        call(**kw)
    return err(e)


# ------------------------------------------------------------------------ tags (5)
def test_tags_answers(lam, lamb_server):
    name = unique("tagfid")
    create(lam, name, CODE)
    arn = lamb_server.arn(name)
    lam.publish_version(FunctionName=name)
    qualified = "Tags on function aliases and versions are not supported. Please specify a function ARN."
    for q in ("$LATEST", "1"):
        assert refused(lam.tag_resource, Resource=lamb_server.arn(name, q), Tags={"a": "b"}) == (
            "InvalidParameterValueException", qualified, 400)
        assert refused(lam.untag_resource, Resource=lamb_server.arn(name, q), TagKeys=["a"]) == (
            "InvalidParameterValueException", qualified, 400)
    assert refused(lam.tag_resource, Resource=arn, Tags={}) == (
        "InvalidParameterValueException", "An error occurred and the request cannot be processed.", 400)
    esm = f"arn:aws:lambda:{lamb_server.region}:{lamb_server.account_id}:event-source-mapping:a1b2c3d4-5678-90ab-cdef-111112222333"
    assert refused(lam.list_tags, Resource=esm) == ("ResourceNotFoundException", f"Event source mapping not found: {esm}", 404)
    cap = f"arn:aws:lambda:{lamb_server.region}:{lamb_server.account_id}:capacity-provider:nope"
    assert refused(lam.tag_resource, Resource=cap, Tags={"a": "b"}) == (
        "ResourceNotFoundException", f"Capacity provider not found: {cap}", 404)
    before = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    lam.tag_resource(Resource=arn, Tags={"a": "b"})
    after = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    assert after != before
    lam.untag_resource(Resource=arn, TagKeys=["a"])
    assert lam.get_function_configuration(FunctionName=name)["RevisionId"] not in (before, after)
    assert invoke(lam, name)[1] == "ok"


# --------------------------------------------------------------- logging config (6)
def test_json_logging_defaults_levels_to_info(lam):
    name = unique("logfid")
    created = create(lam, name, CODE, LoggingConfig={"LogFormat": "JSON"})
    assert created["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO",
                                        "LogGroup": f"/aws/lambda/{name}"}
    kept = create(lam, name + "-k", CODE, LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"})
    assert kept["LoggingConfig"]["ApplicationLogLevel"] == "DEBUG" and kept["LoggingConfig"]["SystemLogLevel"] == "INFO"
    text = create(lam, name + "-t", CODE)
    assert text["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}-t"}
    upd = lam.update_function_configuration(FunctionName=name + "-t", LoggingConfig={"LogFormat": "JSON",
                                                                                   "SystemLogLevel": "WARN"})
    assert upd["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN",
                                    "LogGroup": f"/aws/lambda/{name}-t"}


# ------------------------------------------------------------------ concurrency (7)
FUNCTIONS_ONLY = ("This operation is permitted on Lambda functions only. Aliases and versions do not support this "
                  "operation. Please specify either a function name or an unqualified function ARN.")


def test_put_function_concurrency_refuses_qualifiers(lam, lamb_server):
    name = unique("concfid")
    create(lam, name, CODE)
    lam.publish_version(FunctionName=name)
    for fn in (lamb_server.arn(name, "$LATEST"), lamb_server.arn(name, "1"), f"{name}:1"):
        assert refused(lam.put_function_concurrency, FunctionName=fn, ReservedConcurrentExecutions=1) == (
            "InvalidParameterValueException", FUNCTIONS_ONLY, 400)
    missing = unique("nope")
    assert refused(lam.put_function_concurrency, FunctionName=missing, ReservedConcurrentExecutions=1) == (
        "ResourceNotFoundException", f"Function not found: {lamb_server.arn(missing)}:$LATEST", 404)


def test_provisioned_holding_all_reserved_throttles_on_demand(lam):
    name = unique("provfid")
    create(lam, name, CODE)
    lam.publish_version(FunctionName=name)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1)
    wait_for(lambda: lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")["Status"] == "READY",
             60, 0.1, "provisioned concurrency READY")
    assert invoke(lam, name, Qualifier="1")[1] == "ok"  # served by the provisioned environment
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name)
    assert err(e) == ("TooManyRequestsException", "Rate Exceeded.", 429)
    assert e.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    assert invoke(lam, name)[1] == "ok"


# ------------------------------------------------------------ layers and account (8)
def test_layer_answers(fresh_server):
    server = fresh_server()
    lam = server.client()
    zip_bytes = make_zip({"python/m.py": "X = 1\n"})
    out = lam.publish_layer_version(LayerName=unique("lay"), Content={"ZipFile": zip_bytes},
                                    CompatibleRuntimes=[], CompatibleArchitectures=[])
    assert out["CompatibleRuntimes"] == [] and out["CompatibleArchitectures"] == []
    name = unique("layfid")
    fn = create(lam, name, CODE)
    usage = lam.get_account_settings()["AccountUsage"]
    assert usage["TotalCodeSize"] == fn["CodeSize"] + out["Content"]["CodeSize"]
    other = out["LayerVersionArn"].replace(f":{server.region}:", ":eu-west-1:")
    region = ("InvalidParameterValueException",
              f"Layers are not in the same region as the function. Layers are expected to be in region {server.region}.",
              400)
    # the region is checked before the name conflict
    assert refused(lam.create_function, FunctionName=name, Runtime="python3.12", Role=fn["Role"], Handler="fn.handler",
                   Code={"ZipFile": make_zip({"fn.py": CODE})}, Layers=[other]) == region
    assert refused(lam.update_function_configuration, FunctionName=name, Layers=[other]) == region


# ---------------------------------------------------------------- names and ARNs (4)
def test_names_and_arns(lam, lamb_server):
    long = "f" * 65
    assert refused(lam.create_function, FunctionName=long, Runtime="python3.12", Role=ROLE,
                   Handler="fn.handler", Code={"ZipFile": make_zip({"fn.py": CODE})}) == (
        "InvalidParameterValueException",
        f"1 validation error detected: Value '{long}' at 'functionName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64", 400)
    assert refused(lam.get_function, FunctionName=long) == (
        "ResourceNotFoundException", f"Function not found: {lamb_server.arn(long)}", 404)
    assert refused(lam.delete_function, FunctionName=long)[2] == 404
    nameless = f"arn:aws:lambda:{lamb_server.region}:{lamb_server.account_id}:function"
    assert refused(lam.get_function, FunctionName=nameless) == (
        "ResourceNotFoundException", f"Function not found: {lamb_server.arn('function')}", 404)
    foreign = f"arn:aws:lambda:{lamb_server.region}:111122223333:function:someone-elses"
    for call, action in ((lam.get_function, "GetFunction"), (lam.invoke, "InvokeFunction")):
        assert refused(call, FunctionName=foreign) == (
            "AccessDeniedException",
            f"User: arn:aws:iam::{lamb_server.account_id}:root is not authorized to perform: lambda:{action} on "
            f"resource: {foreign} because no resource-based policy allows the lambda:{action} action", 403)
    missing = unique("gone")
    assert refused(lam.invoke, FunctionName=missing) == (
        "ResourceNotFoundException", f"Function not found: {lamb_server.arn(missing)}:$LATEST", 404)
    name = unique("delv")
    create(lam, name, CODE)
    assert lam.delete_function(FunctionName=name, Qualifier="7")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name


def test_cli_names_answers(lamb_server, tmp_path):
    missing = unique("gone")
    out = aws(lamb_server, "invoke", "--function-name", missing, "/dev/null", check=False)
    assert out.returncode != 0
    assert f"Function not found: {lamb_server.arn(missing)}:$LATEST" in out.stderr
    long = "g" * 65
    (tmp_path / "code.zip").write_bytes(make_zip({"fn.py": CODE}))
    out = aws(lamb_server, "create-function", "--function-name", long, "--runtime", "python3.12",
              "--role", ROLE, "--handler", "fn.handler",
              "--zip-file", "fileb://code.zip", check=False, cwd=tmp_path)
    assert "(InvalidParameterValueException)" in out.stderr
    assert f"Value '{long}' at 'functionName' failed to satisfy constraint" in out.stderr


# --------------------------------------------------------- validation texts (3)
AWS_RUNTIMES = ("[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, "
                "python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, "
                "dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]")


def test_validation_texts(lam, lamb_server):
    name = unique("valfid")
    for runtime in ("PYTHON3.9", "python9.9"):
        assert refused(lam.create_function, FunctionName=name, Runtime=runtime, Role=ROLE,
                       Handler="fn.handler", Code={"ZipFile": make_zip({"fn.py": CODE})}) == (
            "InvalidParameterValueException",
            f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: "
            f"{AWS_RUNTIMES} or be a valid ARN", 400)
    create(lam, name, CODE)
    assert refused(lam.update_function_configuration, FunctionName=name, Runtime="PYTHON3.9")[1].startswith(
        "Value PYTHON3.9 at 'runtime' failed to satisfy constraint")
    assert refused(lam.create_function, FunctionName=name + "-a", Runtime="python3.12", Role=ROLE,
                   Handler="fn.handler", Code={"ZipFile": make_zip({"fn.py": CODE})}, Architectures=["x86"]) == (
        "ValidationException",
        "1 validation error detected: Value '[x86]' at 'architectures' failed to satisfy constraint: Member must satisfy "
        "constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]", 400)
    assert refused(lam.put_function_recursion_config, FunctionName=name, RecursiveLoop="Sometimes") == (
        "ValidationException",
        "1 validation error detected: Value 'Sometimes' at 'recursiveLoop' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Terminate, Allow]", 400)
    code, message, status = refused(lam.publish_layer_version, LayerName=unique("l"), Content={"ZipFile": make_zip({"a": "b"})},
                                    CompatibleArchitectures=["bad"], CompatibleRuntimes=["bad"])
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("2 validation errors detected: Value '[bad]' at 'compatibleArchitectures'")
    assert "; Value '[bad]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: [ruby3.5," in message


def test_cli_validation_texts(lamb_server, tmp_path):
    (tmp_path / "code.zip").write_bytes(make_zip({"fn.py": CODE}))
    out = aws(lamb_server, "create-function", "--function-name", unique("valcli"), "--runtime", "PYTHON3.9",
              "--role", ROLE, "--handler", "fn.handler",
              "--zip-file", "fileb://code.zip", check=False, cwd=tmp_path)
    assert "(InvalidParameterValueException)" in out.stderr
    assert f"Value PYTHON3.9 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: {AWS_RUNTIMES} or be a valid ARN" in out.stderr


def test_cli_tags_logging_concurrency_layers(lamb_server, tmp_path):
    (tmp_path / "code.zip").write_bytes(make_zip({"fn.py": CODE}))
    name = unique("clifid")
    out = aws_json(lamb_server, "create-function", "--function-name", name, "--runtime", "python3.12",
                   "--role", ROLE, "--handler", "fn.handler",
                   "--zip-file", "fileb://code.zip", "--logging-config", "LogFormat=JSON", cwd=tmp_path)
    assert out["LoggingConfig"]["ApplicationLogLevel"] == "INFO" and out["LoggingConfig"]["SystemLogLevel"] == "INFO"
    aws_json(lamb_server, "wait", "function-active-v2", "--function-name", name)
    bad = aws(lamb_server, "tag-resource", "--resource", lamb_server.arn(name, "$LATEST"), "--tags", "a=b", check=False)
    assert "(InvalidParameterValueException)" in bad.stderr
    assert "Tags on function aliases and versions are not supported. Please specify a function ARN." in bad.stderr
    bad = aws(lamb_server, "put-function-concurrency", "--function-name", f"{name}:$LATEST",
              "--reserved-concurrent-executions", "1", check=False)
    assert "(InvalidParameterValueException)" in bad.stderr and FUNCTIONS_ONLY in bad.stderr
    layer = aws_json(lamb_server, "publish-layer-version", "--layer-name", unique("clil"), "--zip-file", "fileb://code.zip",
                     "--compatible-runtimes", "[]", "--compatible-architectures", "[]", cwd=tmp_path)
    assert layer["CompatibleRuntimes"] == [] and layer["CompatibleArchitectures"] == []
