"""Layers: the layer API, functions with layers, /opt at invocation (issue 4)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import urllib.request

import pytest
from botocore.exceptions import ClientError

from .awscli import aws_json, needs_cli
from .conftest import code_sha256, create, invoke, make_zip, unique

NOT_FOUND = ("ResourceNotFoundException", "The resource you requested does not exist.", 404)

PROBE = """
import importlib, os, shutil
def handler(event, context):
    out = {"stream": context.log_stream_name}
    for module in event.get("modules", []):
        try:
            out[module] = importlib.import_module(module).VALUE
        except ImportError as e:
            out[module] = "ImportError: " + str(e)
    out["tool"] = shutil.which("layer-tool") is not None
    out["lib"] = any(os.path.exists(os.path.join(d, "liblayer.txt"))
                     for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d)
    return out
"""


def err(e: pytest.ExceptionInfo) -> tuple[str, str, int]:
    r = e.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def publish(lam, name: str, files: dict, modes: dict | None = None, **kw) -> dict:
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": make_zip(files, modes)}, **kw)


def module(value: str) -> str:
    return f"VALUE = {value!r}\n"


def probe(lam, name, *modules):
    resp, out = invoke(lam, name, {"modules": list(modules)})
    assert "FunctionError" not in resp, out
    return out


@needs_cli
def test_layer_version_api(lam, lamb_server, tmp_path):
    name = unique("layer")
    files = {"python/mod.py": module("one")}
    (tmp_path / "layer.zip").write_bytes(make_zip(files))
    v1 = aws_json(lamb_server, "publish-layer-version", "--layer-name", name, "--zip-file",
                  f"fileb://{tmp_path / 'layer.zip'}", "--compatible-runtimes", "python3.12", "python3.11",
                  "--compatible-architectures", "x86_64", "--license-info", "MIT", "--description", "first")
    arn = f"arn:aws:lambda:{lamb_server.region}:{lamb_server.account_id}:layer:{name}"
    assert v1["LayerArn"] == arn and v1["LayerVersionArn"] == f"{arn}:1" and v1["Version"] == 1
    assert v1["Description"] == "first" and v1["LicenseInfo"] == "MIT"
    assert v1["CompatibleRuntimes"] == ["python3.12", "python3.11"] and v1["CompatibleArchitectures"] == ["x86_64"]
    assert v1["Content"]["CodeSha256"] == code_sha256(make_zip(files))
    assert v1["Content"]["CodeSize"] == len(make_zip(files))
    assert v1["CreatedDate"].endswith("+0000")
    with urllib.request.urlopen(v1["Content"]["Location"], timeout=10) as r:
        assert base64.b64encode(hashlib.sha256(r.read()).digest()).decode() == v1["Content"]["CodeSha256"]

    v2 = publish(lam, name, {"python/mod.py": module("two")}, CompatibleRuntimes=["python3.13"],
                 CompatibleArchitectures=["arm64", "x86_64"])
    assert v2["Version"] == 2 and v2["Description"] == "" and "LicenseInfo" not in v2
    v3 = publish(lam, arn, {"python/mod.py": module("three")})  # LayerName may be the layer's ARN
    assert v3["LayerVersionArn"] == f"{arn}:3"

    got = lam.get_layer_version(LayerName=name, VersionNumber=1)
    assert {k: got[k] for k in ("LayerArn", "LayerVersionArn", "Version", "Description", "CreatedDate",
                                "CompatibleRuntimes", "LicenseInfo", "CompatibleArchitectures")} == \
        {k: v1[k] for k in ("LayerArn", "LayerVersionArn", "Version", "Description", "CreatedDate",
                            "CompatibleRuntimes", "LicenseInfo", "CompatibleArchitectures")}
    assert lam.get_layer_version(LayerName=arn, VersionNumber=2)["Version"] == 2
    assert lam.get_layer_version_by_arn(Arn=f"{arn}:3")["Description"] == ""
    for call in (lambda: lam.get_layer_version(LayerName=name, VersionNumber=9),
                 lambda: lam.get_layer_version(LayerName=unique("nope"), VersionNumber=1),
                 lambda: lam.get_layer_version_by_arn(Arn=f"{arn}:9")):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == NOT_FOUND
    assert isinstance(e.value, lam.exceptions.ResourceNotFoundException)

    # ListLayerVersions: newest first, filters, pagination
    versions = lam.list_layer_versions(LayerName=name)["LayerVersions"]
    assert [v["Version"] for v in versions] == [3, 2, 1]
    assert "Content" not in versions[0] and versions[2]["LicenseInfo"] == "MIT"
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name, CompatibleRuntime="python3.12")["LayerVersions"]] == [1]
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name, CompatibleArchitecture="x86_64")["LayerVersions"]] == [2, 1]
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name, CompatibleArchitecture="arm64")["LayerVersions"]] == [2]
    assert lam.list_layer_versions(LayerName=name, CompatibleRuntime="python3.12", CompatibleArchitecture="arm64")["LayerVersions"] == []
    first = lam.list_layer_versions(LayerName=name, MaxItems=2)
    assert [v["Version"] for v in first["LayerVersions"]] == [3, 2] and first["NextMarker"]
    rest = lam.list_layer_versions(LayerName=name, MaxItems=2, Marker=first["NextMarker"])
    assert [v["Version"] for v in rest["LayerVersions"]] == [1] and "NextMarker" not in rest
    assert lam.list_layer_versions(LayerName=unique("nope"))["LayerVersions"] == []

    # ListLayers: each layer with its latest matching version
    layers = {l["LayerName"]: l for l in lam.list_layers()["Layers"]}
    assert layers[name]["LayerArn"] == arn and layers[name]["LatestMatchingVersion"]["Version"] == 3
    layers = {l["LayerName"]: l for l in lam.list_layers(CompatibleRuntime="python3.12")["Layers"]}
    assert layers[name]["LatestMatchingVersion"]["LayerVersionArn"] == f"{arn}:1"
    layers = {l["LayerName"]: l for l in lam.list_layers(CompatibleArchitecture="arm64")["Layers"]}
    assert layers[name]["LatestMatchingVersion"]["Version"] == 2
    assert name not in {l["LayerName"] for l in lam.list_layers(CompatibleRuntime="nodejs20.x")["Layers"]}

    # DeleteLayerVersion: gone from reads and lists; numbers are not reused; missing ones are fine
    lam.delete_layer_version(LayerName=name, VersionNumber=3)
    lam.delete_layer_version(LayerName=name, VersionNumber=3)
    lam.delete_layer_version(LayerName=unique("nope"), VersionNumber=1)
    with pytest.raises(ClientError) as e:
        lam.get_layer_version(LayerName=name, VersionNumber=3)
    assert err(e) == NOT_FOUND
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name)["LayerVersions"]] == [2, 1]
    assert publish(lam, name, {"python/mod.py": module("four")})["Version"] == 4


def test_list_layers_pagination(fresh_server):
    server = fresh_server()
    lam = server.client()
    names = sorted(unique("pl") for _ in range(5))
    for n in names:
        publish(lam, n, {"x.txt": n})
    pages = lam.get_paginator("list_layers").paginate(PaginationConfig={"PageSize": 2})
    assert [l["LayerName"] for p in pages for l in p["Layers"]] == names
    with pytest.raises(ClientError) as e:
        server.raw_client().list_layers(MaxItems=51)
    assert err(e)[0] == "ValidationException"


def test_layer_library_is_importable_and_on_the_paths(lam):
    layer = publish(lam, unique("lib"), {
        "python/plainmod.py": module("from /opt/python"),
        "python/lib/python3.12/site-packages/sitemod/__init__.py": module("from site-packages"),
        "bin/layer-tool": "#!/bin/sh\necho tool\n",
        "lib/liblayer.txt": "a native library would be here",
    }, {"bin/layer-tool": 0o755}, CompatibleRuntimes=["python3.12"])
    name = unique("fnl")
    created = create(lam, name, {"fn.py": PROBE}, Layers=[layer["LayerVersionArn"]])
    assert created["Layers"] == [{"Arn": layer["LayerVersionArn"], "CodeSize": layer["Content"]["CodeSize"]}]
    out = probe(lam, name, "plainmod", "sitemod")
    assert out["plainmod"] == "from /opt/python" and out["sitemod"] == "from site-packages"
    assert out["tool"] is True, out  # <opt>/bin is on PATH
    assert out["lib"] is True, out  # <opt>/lib is on LD_LIBRARY_PATH
    # the function's own code comes first on sys.path, as on AWS (/var/task before /opt)
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"fn.py": PROBE, "plainmod.py": module("from the task")}))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert probe(lam, name, "plainmod")["plainmod"] == "from the task"


def test_node_layer_module_is_requirable(lam):
    layer = publish(lam, unique("node"), {
        "nodejs/node_modules/greet/index.js": "module.exports = () => 'hello from /opt/nodejs/node_modules';\n",
        "nodejs/node20/node_modules/versioned/index.js": "module.exports = 'node20 folder';\n",
    })
    name = unique("nodefn")
    create(lam, name, {"index.js": "const greet = require('greet');\nconst v = require('versioned');\n"
                                   "exports.handler = async () => ({greet: greet(), versioned: v});\n"},
           handler="index.handler", runtime="nodejs20.x", Layers=[layer["LayerVersionArn"]], wait=False)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    state = lam.get_function_configuration(FunctionName=name)
    if state["State"] != "Active":
        pytest.fail(f"nodejs20.x is not available on this host: {state.get('StateReason')}")
    resp, out = invoke(lam, name, {})
    assert out == {"greet": "hello from /opt/nodejs/node_modules", "versioned": "node20 folder"}, out


def test_layer_order_decides_which_file_wins(lam, lamb_server):
    a = publish(lam, unique("la"), {"python/which.py": module("A"), "python/only_a.py": module("a")})
    b = publish(lam, unique("lb"), {"python/which.py": module("B")})
    name = unique("order")
    create(lam, name, {"fn.py": PROBE}, Layers=[a["LayerVersionArn"], b["LayerVersionArn"]])
    first = probe(lam, name, "which", "only_a")
    assert first["which"] == "B" and first["only_a"] == "a"

    updated = lam.update_function_configuration(FunctionName=name, Layers=[b["LayerVersionArn"], a["LayerVersionArn"]])
    assert [l["Arn"] for l in updated["Layers"]] == [b["LayerVersionArn"], a["LayerVersionArn"]]
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    second = probe(lam, name, "which")
    assert second["which"] == "A"
    assert second["stream"] != first["stream"], "changing the layers gives a fresh environment"

    # a published version keeps its layers while $LATEST drops them
    assert lam.publish_version(FunctionName=name)["Layers"][0]["Arn"] == b["LayerVersionArn"]
    cleared = lam.update_function_configuration(FunctionName=name, Layers=[])
    assert "Layers" not in cleared
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert probe(lam, name, "which")["which"].startswith("ImportError")
    assert probe(lam, f"{name}:1", "which")["which"] == "A"


def test_deleted_layer_version_keeps_working_for_its_function(lam, lamb_server):
    layer_name = unique("del")
    layer = publish(lam, layer_name, {"python/kept.py": module("still here")})
    arn = layer["LayerVersionArn"]
    name = unique("uses")
    create(lam, name, {"fn.py": PROBE}, Layers=[arn])
    assert probe(lam, name, "kept")["kept"] == "still here"

    lam.delete_layer_version(LayerName=layer_name, VersionNumber=1)
    assert probe(lam, name, "kept")["kept"] == "still here"
    # also from a fresh environment, and after an unrelated update that keeps the layer list
    lam.update_function_configuration(FunctionName=name, Description="new environment please", Layers=[arn])
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert probe(lam, name, "kept")["kept"] == "still here"
    assert lam.get_function_configuration(FunctionName=name)["Layers"][0]["Arn"] == arn

    # but no new function can take it
    with pytest.raises(ClientError) as e:
        create(lam, unique("new"), {"fn.py": PROBE}, Layers=[arn])
    assert err(e) == ("InvalidParameterValueException", f"Layer version {arn} does not exist.", 400)
    other = unique("other")
    create(lam, other, {"fn.py": PROBE})
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=other, Layers=[arn])
    assert err(e) == ("InvalidParameterValueException", f"Layer version {arn} does not exist.", 400)


def test_function_layer_errors(lam, lamb_server):
    s = lamb_server
    layers = [publish(lam, unique("many"), {"f.txt": str(i)})["LayerVersionArn"] for i in range(6)]
    name = unique("errs")

    def attempt(arns):
        with pytest.raises(ClientError) as e:
            create(lam, name, {"fn.py": PROBE}, Layers=arns)
        return err(e)

    assert attempt(layers) == ("InvalidParameterValueException", "Cannot reference more than 5 layers.", 400)
    layer_name = unique("dup")
    one = publish(lam, layer_name, {"a.txt": "1"})["LayerVersionArn"]
    two = publish(lam, layer_name, {"a.txt": "2"})["LayerVersionArn"]
    assert attempt([one, two]) == (
        "InvalidParameterValueException",
        "Two different versions of the same layer are not allowed to be referenced in the same function. "
        f"{one} and {two} are versions of the same layer.", 400)
    elsewhere = f"arn:aws:lambda:eu-west-1:{s.account_id}:layer:{layer_name}:1"
    assert attempt([elsewhere]) == (
        "InvalidParameterValueException",
        f"Layers are not in the same region as the function. Layers are expected to be in region {s.region}.", 400)
    foreign = f"arn:aws:lambda:{s.region}:111122223333:layer:{layer_name}:1"
    code, message, status = attempt([foreign])
    assert (code, status) == ("AccessDeniedException", 403)
    assert f"lambda:GetLayerVersion on resource: {foreign}" in message
    missing = f"arn:aws:lambda:{s.region}:{s.account_id}:layer:{layer_name}:9"
    assert attempt([missing]) == ("InvalidParameterValueException", f"Layer version {missing} does not exist.", 400)
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=name)
    assert err(e)[0] == "ResourceNotFoundException", "a refused CreateFunction creates nothing"

    # the same rules in UpdateFunctionConfiguration, which changes nothing when refused
    create(lam, name, {"fn.py": PROBE}, Layers=[one])
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=name, Layers=layers)
    assert err(e)[1] == "Cannot reference more than 5 layers."
    assert [l["Arn"] for l in lam.get_function_configuration(FunctionName=name)["Layers"]] == [one]

    # this server has no S3 configured (no credentials): Lamb's own failure, not the caller's
    # (content from S3 that exists: tests/integration/test_s3_code.py)
    with pytest.raises(ClientError) as e:
        lam.publish_layer_version(LayerName=unique("s3"), Content={"S3Bucket": "my-bucket", "S3Key": "k.zip"})
    code, message, status = err(e)
    assert (code, status) == ("ServiceException", 500) and message.startswith("Lamb could not read s3://my-bucket/k.zip: ")
    with pytest.raises(ClientError) as e:
        lam.publish_layer_version(LayerName=unique("bad"), Content={"ZipFile": b"not a zip"})
    assert err(e) == ("InvalidParameterValueException",
                      "Could not unzip uploaded file. Please check your file, then try to upload again.", 400)


def test_function_plus_layers_within_the_unzipped_limit(fresh_server):
    limit = 300_000
    server = fresh_server(env={"LAMB_LIMIT_UNZIPPED_CODE_MAX_BYTES": str(limit)})
    lam = server.client()
    big = publish(lam, unique("big"), {"blob.bin": os.urandom(200_000)})
    name = unique("size")
    fn_zip = {"fn.py": PROBE, "pad.bin": os.urandom(120_000)}
    total = 200_000 + len(PROBE) + 120_000
    with pytest.raises(ClientError) as e:
        create(lam, name, fn_zip, Layers=[big["LayerVersionArn"]])
    assert err(e) == ("InvalidParameterValueException",
                      f"Function code combined with layers exceeds the maximum allowed size of {limit} bytes. "
                      f"The actual size is {total} bytes.", 400)
    create(lam, name, {"fn.py": PROBE}, Layers=[big["LayerVersionArn"]])
    with pytest.raises(ClientError) as e:
        lam.update_function_code(FunctionName=name, ZipFile=make_zip(fn_zip))
    assert err(e)[1].startswith("Function code combined with layers exceeds the maximum allowed size")
    other = unique("size")
    create(lam, other, fn_zip)
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=other, Layers=[big["LayerVersionArn"]])
    assert err(e)[1].startswith("Function code combined with layers exceeds the maximum allowed size")


def test_layer_version_permissions(lam, lamb_server):
    layer_name = unique("perm")
    arn = publish(lam, layer_name, {"a.txt": "1"})["LayerVersionArn"]
    with pytest.raises(ClientError) as e:
        lam.get_layer_version_policy(LayerName=layer_name, VersionNumber=1)
    assert err(e) == ("ResourceNotFoundException", "No policy is associated with the given resource.", 404)

    added = lam.add_layer_version_permission(LayerName=layer_name, VersionNumber=1, StatementId="xaccount",
                                             Action="lambda:GetLayerVersion", Principal="223456789012")
    assert json.loads(added["Statement"]) == {
        "Sid": "xaccount", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::223456789012:root"},
        "Action": "lambda:GetLayerVersion", "Resource": arn}
    with pytest.raises(ClientError) as e:
        lam.add_layer_version_permission(LayerName=layer_name, VersionNumber=1, StatementId="org",
                                         Action="lambda:GetLayerVersion", Principal="*", RevisionId="stale")
    assert err(e) == ("PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. "
                      "Call the GetLayerPolicy API to retrieve the latest Revision Id", 412)
    org = lam.add_layer_version_permission(LayerName=layer_name, VersionNumber=1, StatementId="org",
                                           Action="lambda:GetLayerVersion", Principal="*",
                                           OrganizationId="o-abcdefghij", RevisionId=added["RevisionId"])
    assert json.loads(org["Statement"])["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}
    with pytest.raises(ClientError) as e:
        lam.add_layer_version_permission(LayerName=layer_name, VersionNumber=1, StatementId="org",
                                         Action="lambda:GetLayerVersion", Principal="*")
    assert err(e) == ("ResourceConflictException", "The statement id (org) provided already exists. Please provide a "
                      "new statement id, or remove the existing statement.", 409)

    policy = lam.get_layer_version_policy(LayerName=layer_name, VersionNumber=1)
    assert policy["RevisionId"] == org["RevisionId"]
    doc = json.loads(policy["Policy"])
    assert doc["Version"] == "2012-10-17" and doc["Id"] == "default"
    assert [st["Sid"] for st in doc["Statement"]] == ["xaccount", "org"]
    assert doc["Statement"][1]["Principal"] == "*" and doc["Statement"][1]["Resource"] == arn

    with pytest.raises(ClientError) as e:
        lam.remove_layer_version_permission(LayerName=layer_name, VersionNumber=1, StatementId="nope")
    assert err(e) == ("ResourceNotFoundException", "Statement nope is not found in resource policy.", 404)
    with pytest.raises(ClientError) as e:
        lam.remove_layer_version_permission(LayerName=layer_name, VersionNumber=1, StatementId="org", RevisionId="stale")
    assert err(e)[0] == "PreconditionFailedException"
    lam.remove_layer_version_permission(LayerName=layer_name, VersionNumber=1, StatementId="org")
    assert [st["Sid"] for st in json.loads(lam.get_layer_version_policy(LayerName=layer_name, VersionNumber=1)["Policy"])["Statement"]] == ["xaccount"]
    lam.remove_layer_version_permission(LayerName=layer_name, VersionNumber=1, StatementId="xaccount")
    with pytest.raises(ClientError) as e:
        lam.get_layer_version_policy(LayerName=layer_name, VersionNumber=1)
    assert err(e)[1] == "No policy is associated with the given resource."

    missing = f"arn:aws:lambda:{lamb_server.region}:{lamb_server.account_id}:layer:{layer_name}:7"
    for call in (lambda: lam.get_layer_version_policy(LayerName=layer_name, VersionNumber=7),
                 lambda: lam.add_layer_version_permission(LayerName=layer_name, VersionNumber=7, StatementId="s",
                                                          Action="lambda:GetLayerVersion", Principal="*"),
                 lambda: lam.remove_layer_version_permission(LayerName=layer_name, VersionNumber=7, StatementId="s")):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == ("ResourceNotFoundException", f"Layer version {missing} does not exist.", 404)


def test_layers_survive_restart_and_a_lost_opt_folder(fresh_server):
    server = fresh_server()
    lam = server.client()
    layer_name = unique("keep")
    arn = publish(lam, layer_name, {"python/kept.py": module("kept")})["LayerVersionArn"]
    name = unique("restart")
    create(lam, name, {"fn.py": PROBE}, Layers=[arn])
    assert probe(lam, name, "kept")["kept"] == "kept"
    lam.delete_layer_version(LayerName=layer_name, VersionNumber=1)
    server.terminate()
    shutil.rmtree(server.data_dir / "opt")  # rebuilt from the stored zips when an environment needs it
    server.restart()
    lam = server.client()
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert probe(lam, name, "kept")["kept"] == "kept"
    with pytest.raises(ClientError) as e:
        lam.get_layer_version(LayerName=layer_name, VersionNumber=1)
    assert err(e) == NOT_FOUND
    assert publish(lam, layer_name, {"python/kept.py": module("v2")})["Version"] == 2
