"""The AWS CLI against Lamb (``aws lambda ...`` as a subprocess)."""

from __future__ import annotations

import base64
import json
import subprocess

from .awscli import AWS, aws, aws_json, needs_cli
from .conftest import ROLE, code_sha256, make_zip, unique

pytestmark = needs_cli


def _binary_format_args() -> list[str]:
    """``--cli-binary-format raw-in-base64-out`` where the CLI has it (v2); v1 passes blobs raw already."""
    if AWS is None:
        return []
    version = subprocess.run([AWS, "--version"], capture_output=True, text=True, timeout=30)
    text = version.stdout + version.stderr
    return ["--cli-binary-format", "raw-in-base64-out"] if text.startswith("aws-cli/2") else []


RAW = _binary_format_args()


def test_cli_lifecycle(lamb_server, tmp_path):
    name = unique("cli")
    src = "import os\ndef handler(event, context):\n    return {'got': event, 'greeting': os.environ.get('GREETING')}\n"
    zip_bytes = make_zip({"fn.py": src})
    (tmp_path / "code.zip").write_bytes(zip_bytes)

    created = aws_json(lamb_server, "create-function", "--function-name", name, "--runtime", "python3.12",
                       "--role", ROLE, "--handler", "fn.handler", "--zip-file", f"fileb://{tmp_path / 'code.zip'}",
                       cwd=tmp_path)
    assert created["FunctionName"] == name
    assert created["FunctionArn"] == lamb_server.arn(name)
    assert created["CodeSha256"] == code_sha256(zip_bytes)
    assert created["CodeSize"] == len(zip_bytes)
    aws(lamb_server, "wait", "function-active-v2", "--function-name", name)

    got = aws_json(lamb_server, "get-function", "--function-name", name)
    assert got["Configuration"]["FunctionName"] == name
    assert got["Configuration"]["State"] == "Active"
    assert got["Code"]["Location"].startswith(lamb_server.url)

    listed = aws_json(lamb_server, "list-functions")
    assert name in [f["FunctionName"] for f in listed["Functions"]]

    out_file = tmp_path / "out.json"
    result = aws_json(lamb_server, "invoke", "--function-name", name, *RAW,
                      "--payload", '{"hello": "cli", "n": [1, 2]}', str(out_file), cwd=tmp_path)
    assert result["StatusCode"] == 200
    assert result["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in result
    assert json.loads(out_file.read_text()) == {"got": {"hello": "cli", "n": [1, 2]}, "greeting": None}

    updated = aws_json(lamb_server, "update-function-configuration", "--function-name", name,
                       "--environment", "Variables={GREETING=hola,OTHER=2}")
    assert updated["Environment"]["Variables"] == {"GREETING": "hola", "OTHER": "2"}
    aws(lamb_server, "wait", "function-updated-v2", "--function-name", name)
    result = aws_json(lamb_server, "invoke", "--function-name", name, *RAW,
                      "--payload", "{}", "--log-type", "Tail", str(out_file), cwd=tmp_path)
    assert result["StatusCode"] == 200
    assert json.loads(out_file.read_text()) == {"got": {}, "greeting": "hola"}
    assert "START RequestId: " in base64.b64decode(result["LogResult"]).decode()

    settings = aws_json(lamb_server, "get-account-settings")
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountUsage"]["FunctionCount"] >= 1

    deleted = aws(lamb_server, "delete-function", "--function-name", name)
    # older models have no output for DeleteFunction; newer ones bind StatusCode to the HTTP status (204)
    assert deleted.stdout.strip() == "" or json.loads(deleted.stdout) == {"StatusCode": 204}
    missing = aws(lamb_server, "get-function", "--function-name", name, check=False)
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr
    assert f"Function not found: {lamb_server.arn(name)}" in missing.stderr


def test_cli_function_error(lamb_server, tmp_path):
    name = unique("clierr")
    (tmp_path / "code.zip").write_bytes(make_zip({"fn.py": "def handler(e, c):\n    raise ValueError('nope')\n"}))
    aws(lamb_server, "create-function", "--function-name", name, "--runtime", "python3.12", "--role", ROLE,
        "--handler", "fn.handler", "--zip-file", f"fileb://{tmp_path / 'code.zip'}")
    aws(lamb_server, "wait", "function-active-v2", "--function-name", name)
    result = aws_json(lamb_server, "invoke", "--function-name", name, str(tmp_path / "out.json"))
    assert result["StatusCode"] == 200
    assert result["FunctionError"] == "Unhandled"
    body = json.loads((tmp_path / "out.json").read_text())
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "nope"


def test_cli_errors(lamb_server, tmp_path):
    missing = aws(lamb_server, "get-function", "--function-name", unique("missing"), check=False)
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr
    bad = aws(lamb_server, "invoke", "--function-name", unique("missing"), *RAW,
              "--payload", "{}", str(tmp_path / "o.json"), check=False)
    assert bad.returncode != 0 and "ResourceNotFoundException" in bad.stderr
