"""Secrets encrypted at rest (issue 17): the database holds no environment-variable value nor
secret key in plain text; they survive a restart and a master-key rotation."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

from .conftest import create, unique

CODE = "import os\ndef handler(e, c):\n    return os.environ['DB_PASSWORD']\n"


def db_bytes(server) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(server.data_dir.glob("*.db*")))


def test_database_files_hold_no_plaintext_secret(fresh_server):
    server = fresh_server()
    lam = server.client()
    value = "s3cr3t-" + uuid.uuid4().hex
    fn = unique()
    create(lam, fn, CODE, Environment={"Variables": {"DB_PASSWORD": value}})
    assert json.loads(lam.invoke(FunctionName=fn)["Payload"].read()) == value
    root_secret = server.credentials()["aws_secret_access_key"]
    stored = db_bytes(server)
    assert value.encode() not in stored  # grep the database (and its WAL) for the value
    assert root_secret.encode() not in stored
    assert b"DB_PASSWORD" in stored or b"_sealed" in stored
    server.terminate()
    old_key = (server.data_dir / "master.key").read_bytes()
    r = subprocess.run([sys.executable, "-m", "lamb", "keys", "rotate", "--data-dir", str(server.data_dir)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "master key rotated" in r.stdout, r.stderr
    assert (server.data_dir / "master.key").read_bytes() != old_key
    server.restart()
    lam = server.client()
    assert lam.get_function_configuration(FunctionName=fn)["Environment"]["Variables"] == {"DB_PASSWORD": value}
    assert json.loads(lam.invoke(FunctionName=fn)["Payload"].read()) == value
    assert value.encode() not in db_bytes(server)
