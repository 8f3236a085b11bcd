"""A function's KMSKeyArn (issue 17): its environment variables at rest under the customer's key in
KMS (moto's server, reached through AWS_ENDPOINT_URL_KMS), AWS's CreateGrant error for a key KMS
refuses, and what Lambda answers when the variables cannot be decrypted (Environment.Error in the
configuration, the model's KMS*Exception with 502 from Invoke)."""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest

from .async_support import MotoServer, moto  # noqa: F401  (fixture)
from .conftest import DUMMY_CREDS, REGION, create, error_of, unique

CODE = "import os\ndef handler(e, c):\n    return os.environ.get('DB_PASSWORD')\n"


def kms_env(server: MotoServer) -> dict:
    return {"AWS_ENDPOINT_URL_KMS": server.url, "AWS_ACCESS_KEY_ID": DUMMY_CREDS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDS["aws_secret_access_key"], "AWS_DEFAULT_REGION": REGION}


def db_bytes(server) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(server.data_dir.glob("*.db*")))


def stored_variables(server, fn: str) -> dict:
    """$LATEST's Environment.Variables as the database holds them."""
    db = sqlite3.connect(f"file:{server.data_dir / 'lamb.db'}?mode=ro", uri=True)
    try:
        (config,), = db.execute("SELECT config FROM versions WHERE name = ? AND version = '$LATEST'", (fn,))
    finally:
        db.close()
    return json.loads(config)["Environment"]["Variables"]


def result(lam, fn):
    return json.loads(lam.invoke(FunctionName=fn)["Payload"].read())


def test_variables_sealed_under_the_functions_kms_key(fresh_server, moto):  # noqa: F811
    key = moto.client("kms").create_key(Description="lamb test")["KeyMetadata"]["Arn"]
    server = fresh_server(env=kms_env(moto))
    lam = server.client()
    value = "kms-" + uuid.uuid4().hex
    fn = unique("kms")
    out = create(lam, fn, CODE, Environment={"Variables": {"DB_PASSWORD": value}}, KMSKeyArn=key)
    assert out["KMSKeyArn"] == key
    assert result(lam, fn) == value
    stored = db_bytes(server)
    assert value.encode() not in stored
    assert set(stored_variables(server, fn)) == {"_kms"} and stored_variables(server, fn)["_kms"]["kms"] == key

    server.terminate()
    server.restart()  # the variables are decrypted through KMS at start
    lam = server.client()
    assert lam.get_function_configuration(FunctionName=fn)["Environment"] == {"Variables": {"DB_PASSWORD": value}}
    assert result(lam, fn) == value

    # a key KMS does not have: AWS's CreateGrant error
    missing = key.rsplit("/", 1)[0] + "/" + str(uuid.uuid4())
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        create(lam, unique("kms"), CODE, KMSKeyArn=missing, wait=False)
    code, message, status = error_of(e)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("Lambda was unable to configure access to your environment variables because the KMS "
                              "key is invalid for CreateGrant. Please check your KMS key settings. KMS Exception: "
                              "NotFoundException KMS Message: ")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_function_configuration(FunctionName=fn, KMSKeyArn=missing)

    # back to the default key: sealed under Lamb's master key
    lam.update_function_configuration(FunctionName=fn, KMSKeyArn="")
    lam.get_waiter("function_updated_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    assert "KMSKeyArn" not in lam.get_function_configuration(FunctionName=fn)
    assert set(stored_variables(server, fn)) == {"_sealed"}
    assert result(lam, fn) == value


def test_variables_that_do_not_decrypt(fresh_server, moto):  # noqa: F811
    key = moto.client("kms").create_key()["KeyMetadata"]["Arn"]
    server = fresh_server(env=kms_env(moto))
    lam = server.client()
    fn = unique("kmsgone")
    create(lam, fn, CODE, Environment={"Variables": {"DB_PASSWORD": "x"}}, KMSKeyArn=key)
    assert result(lam, fn) == "x"
    server.terminate()
    other = MotoServer()  # a KMS that does not hold the key
    try:
        server.env = kms_env(other)
        server.restart()
        lam = server.client()
        env = lam.get_function_configuration(FunctionName=fn)["Environment"]
        assert env == {"Error": {  # moto answers NotFoundException for a key it does not hold
            "ErrorCode": "NotFoundException",
            "Message": "Lambda was unable to decrypt the environment variables because the KMS key was not found. "
                       "Please check the function's KMS key settings."}}
        with pytest.raises(lam.exceptions.KMSNotFoundException) as e:
            lam.invoke(FunctionName=fn)
        assert error_of(e)[2] == 502 and error_of(e)[1] == env["Error"]["Message"]
        # the stored variables are kept while unreadable: the right KMS opens them again
        lam.tag_resource(Resource=server.arn(fn), Tags={"a": "b"})
        server.terminate()
        server.env = kms_env(moto)
        server.restart()
        lam = server.client()
        assert result(lam, fn) == "x"
        # new variables replace unreadable ones
        server.terminate()
        server.env = kms_env(other)
        server.restart()
        lam = server.client()
        lam.update_function_configuration(FunctionName=fn, Environment={"Variables": {"DB_PASSWORD": "y"}})
        lam.get_waiter("function_updated_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        assert result(lam, fn) == "y"
    finally:
        other.stop()
