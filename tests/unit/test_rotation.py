import json

from lamb.identity.rotation import rotate
from lamb.identity.store import IdentityStore
from lamb.sealing import Sealer
from lamb.store.db import Database
from lamb.store.functions import FunctionStore


def test_rotation_rewraps_keys_and_environment_variables(tmp_path):
    key_path = tmp_path / "master.key"
    db = Database(tmp_path / "lamb.db")
    sealer = Sealer.from_file(key_path)
    ids = IdentityStore(db, sealer)
    _, root = ids.ensure_account("111111111111")
    fns = FunctionStore(db, sealer=sealer)
    fns.create("f", {}, {"Environment": {"Variables": {"A": "plain-value"}}})
    assert b"plain-value" not in b"".join(r[0].encode() for r in db.query("SELECT config FROM versions"))
    assert rotate(db, key_path) == 2
    new = Sealer.from_file(key_path)
    assert IdentityStore(db, new).key(root.access_key_id).secret == root.secret
    assert FunctionStore(db, sealer=new).get("f").versions["$LATEST"]["Environment"]["Variables"] == {"A": "plain-value"}
    db.close()
