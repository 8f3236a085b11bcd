"""Get/PutRuntimeManagementConfig against a real ``lamb serve``, with boto3 and the AWS CLI.

Runtime versions on Lamb are runtime root formats (``lamb.runtimes.versions``):
one per runtime, ARN = SHA-256 of the root's name. Messages marked "recorded"
come from AWS (DataBiosphere/azul#7730 for aliases; botocore's newest model for
RuntimeVersionDeletedException); the others are Lamb's (docs/status.md).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import subprocess
import sys
from urllib.parse import quote

import pytest

from lamb.runtimes import versions

from .awscli import aws, aws_json
from .conftest import REGION, create, invoke, make_zip, refused, unique

CODE = "def handler(e, c):\n    return {'ok': True}\n"
ARN_PATTERN = re.compile(r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}")


def rv(runtime: str) -> str:
    """The runtime version ARN Lamb has for ``runtime``: SHA-256 of its root's name."""
    arn = versions.current(REGION, runtime).arn
    assert arn == f"arn:aws:lambda:{REGION}::runtime:" + hashlib.sha256(versions.current(REGION, runtime).root.encode()).hexdigest()
    return arn



def body(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def test_a_new_function_is_auto_and_runs_lambs_version_of_its_runtime(lam, lamb_server):
    name = unique("rm")
    create(lam, name, CODE)
    arn = rv("python3.12")
    assert ARN_PATTERN.fullmatch(arn)
    assert lam.get_function_configuration(FunctionName=name)["RuntimeVersionConfig"] == {"RuntimeVersionArn": arn}
    assert lam.get_function(FunctionName=name)["Configuration"]["RuntimeVersionConfig"] == {"RuntimeVersionArn": arn}
    assert body(lam.get_runtime_management_config(FunctionName=name)) == {
        "UpdateRuntimeOn": "Auto", "FunctionArn": lamb_server.arn(name)}
    assert body(lam.get_runtime_management_config(FunctionName=name, Qualifier="$LATEST")) == {
        "UpdateRuntimeOn": "Auto", "FunctionArn": lamb_server.arn(name, "$LATEST")}
    # The version the function runs is the one its INIT_START line names.
    assert invoke(lam, name)[1] == {"ok": True}
    group = quote(f"/aws/lambda/{name}", safe="")
    (stream,) = lamb_server.get_json(f"/_lamb/logs?group={group}")["streams"]
    messages = [m for _, m in lamb_server.get_json(f"/_lamb/logs?group={group}&stream={quote(stream, safe='')}")["events"]]
    assert f"INIT_START Runtime Version: python:3.12.v1\tRuntime Version ARN: {arn}" in messages


def test_manual_pins_the_version_and_other_modes_release_it(lam, lamb_server):
    name = unique("rm")
    create(lam, name, CODE)
    arn = rv("python3.12")
    put = lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="Manual", RuntimeVersionArn=arn)
    assert body(put) == {"UpdateRuntimeOn": "Manual", "FunctionArn": lamb_server.arn(name), "RuntimeVersionArn": arn}
    assert body(lam.get_runtime_management_config(FunctionName=name)) == body(put)
    assert lam.get_function_configuration(FunctionName=name)["RuntimeVersionConfig"] == {"RuntimeVersionArn": arn}
    assert invoke(lam, name)[1] == {"ok": True}
    # A version published from a pinned $LATEST keeps the pin.
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    assert body(lam.get_runtime_management_config(FunctionName=name, Qualifier="1")) == {
        "UpdateRuntimeOn": "Manual", "FunctionArn": lamb_server.arn(name, "1"), "RuntimeVersionArn": arn}
    # FunctionUpdate and Auto answer without an ARN.
    put = lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="FunctionUpdate")
    assert body(put) == {"UpdateRuntimeOn": "FunctionUpdate", "FunctionArn": lamb_server.arn(name)}
    assert body(lam.get_runtime_management_config(FunctionName=name)) == body(put)
    # ... and each version has its own mode.
    assert lam.get_runtime_management_config(FunctionName=name, Qualifier="1")["UpdateRuntimeOn"] == "Manual"
    put = lam.put_runtime_management_config(FunctionName=name, Qualifier="1", UpdateRuntimeOn="Auto")
    assert body(put) == {"UpdateRuntimeOn": "Auto", "FunctionArn": lamb_server.arn(name, "1")}
    assert lam.get_runtime_management_config(FunctionName=name)["UpdateRuntimeOn"] == "FunctionUpdate"


def test_put_checks_the_mode_and_the_version(lam, raw_lam):
    name = unique("rm")
    create(lam, name, CODE)
    put = lam.put_runtime_management_config
    refused(lam, "InvalidParameterValueException", 400, "RuntimeVersionArn is required when UpdateRuntimeOn is Manual.",
            put, FunctionName=name, UpdateRuntimeOn="Manual")
    unknown = f"arn:aws:lambda:{REGION}::runtime:" + "0" * 64
    refused(lam, "InvalidParameterValueException", 400,
            f"Runtime version {unknown} does not exist on this Lamb. The version of python3.12 it has is {rv('python3.12')}.",
            put, FunctionName=name, UpdateRuntimeOn="Manual", RuntimeVersionArn=unknown)
    other_region = rv("python3.12").replace(REGION, "eu-west-1")
    refused(lam, "InvalidParameterValueException", 400,
            f"Runtime version {other_region} does not exist on this Lamb. The version of python3.12 it has is "
            f"{rv('python3.12')}.",
            put, FunctionName=name, UpdateRuntimeOn="Manual", RuntimeVersionArn=other_region)
    refused(lam, "InvalidParameterValueException", 400,
            f"Runtime version {rv('python3.13')} is a version of python3.13, not of the function's runtime python3.12.",
            put, FunctionName=name, UpdateRuntimeOn="Manual", RuntimeVersionArn=rv("python3.13"))
    refused(lam, "InvalidParameterValueException", 400,
            "RuntimeVersionArn can only be given with UpdateRuntimeOn Manual, not Auto.",
            put, FunctionName=name, UpdateRuntimeOn="Auto", RuntimeVersionArn=rv("python3.12"))
    # The model's constraints (botocore does not check patterns or enums itself).
    with pytest.raises(raw_lam.exceptions.ClientError) as e:
        raw_lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="Sometimes")
    err = e.value.response
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("ValidationException", 400)
    assert err["Error"]["Message"].startswith(
        "1 validation error detected: Value 'Sometimes' at 'updateRuntimeOn' failed to satisfy constraint: "
        "Member must satisfy enum value set")
    with pytest.raises(raw_lam.exceptions.ClientError) as e:
        raw_lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="Manual",
                                              RuntimeVersionArn="arn:aws:s3:::bucket/runtime/x/y/z")
    err = e.value.response
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("ValidationException", 400)
    assert "at 'runtimeVersionArn' failed to satisfy constraint: Member must satisfy regular expression pattern" in \
        err["Error"]["Message"]
    # Nothing changed.
    assert lam.get_runtime_management_config(FunctionName=name)["UpdateRuntimeOn"] == "Auto"


def test_qualifiers_are_latest_or_a_published_version(lam, lamb_server):
    name = unique("rm")
    create(lam, name, CODE)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    for call, kw in ((lam.get_runtime_management_config, {}),
                     (lam.put_runtime_management_config, {"UpdateRuntimeOn": "Auto"})):
        # recorded: an alias is refused by name
        refused(lam, "InvalidParameterValueException", 400,
                f"The provided function name {lamb_server.arn(name, 'live')} is invalid. Aliases are not allowed.",
                call, FunctionName=name, Qualifier="live", **kw)
        refused(lam, "InvalidParameterValueException", 400,
                f"The provided function name {lamb_server.arn(name, 'live')} is invalid. Aliases are not allowed.",
                call, FunctionName=f"{name}:live", **kw)
        refused(lam, "ResourceNotFoundException", 404, f"Function not found: {lamb_server.arn(name, '9')}",
                call, FunctionName=name, Qualifier="9", **kw)
        refused(lam, "ResourceNotFoundException", 404, f"Function not found: {lamb_server.arn(name, '$LATEST.PUBLISHED')}",
                call, FunctionName=name, Qualifier="$LATEST.PUBLISHED", **kw)
        refused(lam, "ResourceNotFoundException", 404, f"Function not found: {lamb_server.arn('no-such-fn')}",
                call, FunctionName="no-such-fn", **kw)
    # A qualifier in the name works like the parameter; the answer names the version.
    assert body(lam.get_runtime_management_config(FunctionName=f"{name}:1")) == {
        "UpdateRuntimeOn": "Auto", "FunctionArn": lamb_server.arn(name, "1")}
    assert body(lam.get_runtime_management_config(FunctionName=lamb_server.arn(name))) == {
        "UpdateRuntimeOn": "Auto", "FunctionArn": lamb_server.arn(name)}


def test_manual_latest_keeps_its_runtime_and_architecture(lam):
    name = unique("rm")
    create(lam, name, CODE)
    lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="Manual", RuntimeVersionArn=rv("python3.12"))
    refused(lam, "InvalidParameterValueException", 400,
            "The Runtime of a function whose runtime update mode is Manual cannot be changed. "
            "Set UpdateRuntimeOn to Auto or FunctionUpdate first.",
            lam.update_function_configuration, FunctionName=name, Runtime="python3.13")
    refused(lam, "InvalidParameterValueException", 400,
            "The Architectures of a function whose runtime update mode is Manual cannot be changed. "
            "Set UpdateRuntimeOn to Auto or FunctionUpdate first.",
            lam.update_function_code, FunctionName=name, ZipFile=make_zip({"fn.py": CODE}), Architectures=["arm64"])
    cfg = lam.get_function_configuration(FunctionName=name)
    assert (cfg["Runtime"], cfg["Architectures"]) == ("python3.12", ["x86_64"])
    # Other changes are fine, and keep the pin.
    lam.update_function_configuration(FunctionName=name, Description="still pinned")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert lam.get_function_configuration(FunctionName=name)["RuntimeVersionConfig"] == {
        "RuntimeVersionArn": rv("python3.12")}
    # Out of Manual mode the runtime may change, and the function then runs that runtime's version.
    lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="FunctionUpdate")
    lam.update_function_configuration(FunctionName=name, Runtime="python3.13")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    assert lam.get_function_configuration(FunctionName=name)["RuntimeVersionConfig"] == {
        "RuntimeVersionArn": rv("python3.13")}


def _edit_version(data_dir, name: str, version: str, edit) -> None:
    """Rewrite one stored version configuration of a stopped Lamb: the state an older
    Lamb release (another runtime root format) left in its data dir."""
    db = sqlite3.connect(str(data_dir / "lamb.db"))
    try:
        (raw,) = db.execute("SELECT config FROM versions WHERE name = ? AND version = ?", (name, version)).fetchone()
        config = json.loads(raw)
        edit(config)
        with db:
            db.execute("UPDATE versions SET config = ? WHERE name = ? AND version = ?",
                       (json.dumps(config), name, version))
    finally:
        db.close()


def test_a_pin_to_a_version_this_lamb_no_longer_has(fresh_server):
    server = fresh_server()
    lam = server.client()
    pinned, auto = unique("rm"), unique("rm")
    for name in (pinned, auto):
        create(lam, name, CODE)
    lam.put_runtime_management_config(FunctionName=pinned, UpdateRuntimeOn="Manual", RuntimeVersionArn=rv("python3.12"))
    lam.publish_version(FunctionName=pinned)
    server.terminate()
    # The previous root format of python3.12, as a Lamb release before this one had it.
    gone = f"arn:aws:lambda:{REGION}::runtime:" + hashlib.sha256(b"python3.12-v0").hexdigest()

    def pin_gone(config):
        config["_RuntimeManagement"]["RuntimeVersionArn"] = gone
        config["RuntimeVersionConfig"] = {"RuntimeVersionArn": gone}

    _edit_version(server.data_dir, pinned, "$LATEST", pin_gone)
    _edit_version(server.data_dir, pinned, "1", pin_gone)
    # An Auto function of an older release runs (and reports) this release's version after the restart.
    _edit_version(server.data_dir, auto, "$LATEST", lambda c: c.update(RuntimeVersionConfig={"RuntimeVersionArn": gone}))
    server.restart()

    assert lam.get_function_configuration(FunctionName=auto)["RuntimeVersionConfig"] == {
        "RuntimeVersionArn": rv("python3.12")}
    assert invoke(lam, auto)[1] == {"ok": True}

    cfg = lam.get_function_configuration(FunctionName=pinned)
    assert cfg["State"] == "Active"
    assert cfg["RuntimeVersionConfig"] == {
        "RuntimeVersionArn": gone,
        "Error": {
            "ErrorCode": "RuntimeVersionDeleted",
            "Message": f"Runtime version {gone} is no longer available on this Lamb, which runs python:3.12.v1 "
                       f"({rv('python3.12')}) for python3.12. Set UpdateRuntimeOn to Auto or FunctionUpdate, or pin "
                       f"{rv('python3.12')}.",
        },
    }
    assert body(lam.get_runtime_management_config(FunctionName=pinned)) == {
        "UpdateRuntimeOn": "Manual", "FunctionArn": server.arn(pinned), "RuntimeVersionArn": gone}
    deleted = ("The runtime version used by your function is no longer available. "
               "Update your function to use an available runtime version or runtime alias.")
    for qualifier in ("$LATEST", "1"):
        for kind in ("RequestResponse", "Event", "DryRun"):
            refused(lam, "RuntimeVersionDeletedException", 409, deleted,
                    lam.invoke, FunctionName=pinned, Qualifier=qualifier, InvocationType=kind)
    # Pinning a version Lamb has, or leaving Manual mode, makes it run again.
    lam.put_runtime_management_config(FunctionName=pinned, UpdateRuntimeOn="Manual", RuntimeVersionArn=rv("python3.12"))
    assert lam.get_function_configuration(FunctionName=pinned)["RuntimeVersionConfig"] == {
        "RuntimeVersionArn": rv("python3.12")}
    assert invoke(lam, pinned)[1] == {"ok": True}
    lam.put_runtime_management_config(FunctionName=pinned, Qualifier="1", UpdateRuntimeOn="Auto")
    assert lam.get_function_configuration(FunctionName=pinned, Qualifier="1")["RuntimeVersionConfig"] == {
        "RuntimeVersionArn": rv("python3.12")}
    assert invoke(lam, pinned, Qualifier="1")[1] == {"ok": True}


def test_the_aws_cli(lam, lamb_server):
    name = unique("rm")
    create(lam, name, CODE)
    arn = rv("python3.12")
    out = aws_json(lamb_server, "put-runtime-management-config", "--function-name", name,
                   "--update-runtime-on", "Manual", "--runtime-version-arn", arn)
    assert out == {"UpdateRuntimeOn": "Manual", "FunctionArn": lamb_server.arn(name), "RuntimeVersionArn": arn}
    assert aws_json(lamb_server, "get-runtime-management-config", "--function-name", name) == out
    assert aws_json(lamb_server, "get-function-configuration", "--function-name", name)["RuntimeVersionConfig"] == {
        "RuntimeVersionArn": arn}
    proc = aws(lamb_server, "put-runtime-management-config", "--function-name", name, "--update-runtime-on", "Manual",
               check=False)
    assert proc.returncode in (254, 255)  # a service error: 255 in AWS CLI v1, 254 in v2
    assert ("An error occurred (InvalidParameterValueException) when calling the PutRuntimeManagementConfig "
            "operation: RuntimeVersionArn is required when UpdateRuntimeOn is Manual.") in proc.stderr
    proc = aws(lamb_server, "get-runtime-management-config", "--function-name", name, "--qualifier", "live",
               check=False)
    assert proc.returncode in (254, 255)  # a service error: 255 in AWS CLI v1, 254 in v2
    assert (f"An error occurred (InvalidParameterValueException) when calling the GetRuntimeManagementConfig "
            f"operation: The provided function name {lamb_server.arn(name, 'live')} is invalid. "
            "Aliases are not allowed.") in proc.stderr


def test_lamb_runtimes_versions_prints_what_functions_report(lam):
    name = unique("rm")
    create(lam, name, CODE)
    out = subprocess.run([sys.executable, "-m", "lamb", "runtimes", "versions"], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines()}
    assert rows["python3.12"] == ["python:3.12.v1", lam.get_function_configuration(FunctionName=name)[
        "RuntimeVersionConfig"]["RuntimeVersionArn"]]
    assert set(rows) >= {"python3.9", "python3.13", "nodejs20.x", "nodejs22.x", "provided.al2", "provided.al2023"}
    assert all(ARN_PATTERN.fullmatch(arn) for _, arn in rows.values())
