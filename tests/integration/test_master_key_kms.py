"""The master key in KMS (issue 17, lamb/master_key.py): with LAMB_MASTER_KEY_KMS the data folder holds
only the master key's KMS ciphertext (moto's server as KMS, reached through AWS_ENDPOINT_URL_KMS), secrets
open after a restart through KMS, a plaintext master.key moves under KMS, `lamb keys rotate` makes the new
key in KMS, and a KMS that does not hold the key leaves Lamb unable to start."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid

from .async_support import MotoServer, moto  # noqa: F401  (fixture)
from .conftest import DUMMY_CREDS, REGION, create, unique

CODE = "import os\ndef handler(e, c):\n    return os.environ['DB_PASSWORD']\n"


def kms_env(server: MotoServer, key: str | None = None) -> dict:
    env = {"AWS_ENDPOINT_URL_KMS": server.url, "AWS_ACCESS_KEY_ID": DUMMY_CREDS["aws_access_key_id"],
           "AWS_SECRET_ACCESS_KEY": DUMMY_CREDS["aws_secret_access_key"], "AWS_DEFAULT_REGION": REGION}
    if key is not None:
        env["LAMB_MASTER_KEY_KMS"] = key
    return env


def db_bytes(server) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(server.data_dir.glob("*.db*")))


def variables(server, fn: str) -> dict:
    return server.client().get_function_configuration(FunctionName=fn)["Environment"]["Variables"]


def test_the_master_key_under_kms(fresh_server, moto):  # noqa: F811
    key = moto.client("kms").create_key(Description="lamb master key")["KeyMetadata"]["Arn"]
    server = fresh_server(env=kms_env(moto, key))
    lam = server.client()
    value = "s3cr3t-" + uuid.uuid4().hex
    fn = unique("mk")
    create(lam, fn, CODE, Environment={"Variables": {"DB_PASSWORD": value}})
    assert json.loads(lam.invoke(FunctionName=fn)["Payload"].read()) == value
    stored = server.data_dir / "master.key.kms"
    assert not (server.data_dir / "master.key").exists()  # no plain key anywhere in the data folder
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    wrapped = json.loads(stored.read_text())
    assert wrapped["KeyId"] == key and wrapped["CiphertextBlob"]
    assert value.encode() not in db_bytes(server)
    server.terminate()
    server.restart()  # the master key comes back through KMS Decrypt
    assert variables(server, fn) == {"DB_PASSWORD": value}

    server.terminate()  # rotation: a new data key from KMS, every sealed value rewrapped
    r = subprocess.run([sys.executable, "-m", "lamb", "keys", "rotate", "--data-dir", str(server.data_dir)],
                       capture_output=True, text=True, timeout=60, env={**os.environ, **kms_env(moto, key)})
    assert r.returncode == 0 and "master key rotated" in r.stdout and key in r.stdout, r.stderr
    assert json.loads(stored.read_text())["CiphertextBlob"] != wrapped["CiphertextBlob"]
    assert not (server.data_dir / "master.key").exists()
    server.restart()
    assert variables(server, fn) == {"DB_PASSWORD": value}

    server.terminate()  # a KMS that does not hold the key: Lamb cannot open its secrets and says so
    other = MotoServer()
    try:
        r = subprocess.run([sys.executable, "-m", "lamb", "serve", "--data-dir", str(server.data_dir),
                            "--port", str(server.port)], capture_output=True, text=True, timeout=120,
                           env={**os.environ, **kms_env(other)})
    finally:
        other.stop()
    assert r.returncode == 1 and "KMS decrypt of the master key failed" in r.stderr, (r.returncode, r.stderr[-2000:])
    server.restart()  # the right KMS again
    assert variables(server, fn) == {"DB_PASSWORD": value}


def test_a_plain_master_key_moves_under_kms(fresh_server, moto):  # noqa: F811
    server = fresh_server(env=kms_env(moto))
    value = "s3cr3t-" + uuid.uuid4().hex
    fn = unique("mkmove")
    create(server.client(), fn, CODE, Environment={"Variables": {"DB_PASSWORD": value}})
    assert (server.data_dir / "master.key").exists()
    server.terminate()
    key = moto.client("kms").create_key()["KeyMetadata"]["Arn"]
    server.env = kms_env(moto, key)
    server.restart()
    assert not (server.data_dir / "master.key").exists()
    assert json.loads((server.data_dir / "master.key.kms").read_text())["KeyId"] == key
    assert variables(server, fn) == {"DB_PASSWORD": value}
    server.terminate()  # another KMS key named: the same master key, rewrapped under it
    second = moto.client("kms").create_key()["KeyMetadata"]["Arn"]
    server.env = kms_env(moto, second)
    server.restart()
    assert json.loads((server.data_dir / "master.key.kms").read_text())["KeyId"] == second
    assert variables(server, fn) == {"DB_PASSWORD": value}
