import json

from lamb.identity.rotation import rotate
from lamb.master_key import MasterKeys
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
    assert rotate(db, MasterKeys(key_path)) == 2
    new = Sealer.from_file(key_path)
    assert IdentityStore(db, new).key(root.access_key_id).secret == root.secret
    assert FunctionStore(db, sealer=new).get("f").versions["$LATEST"]["Environment"]["Variables"] == {"A": "plain-value"}
    db.close()


def test_rotation_rewraps_every_account_and_regions_database(tmp_path):
    """Other scopes keep their functions (and signing profiles) in their own database (lamb.scopes):
    rotation rewraps them too, or their secrets would be lost with the old key."""
    key_path = tmp_path / "master.key"
    home, other = Database(tmp_path / "lamb.db"), Database(tmp_path / "accounts" / "222222222222" / "eu-west-1" / "lamb.db")
    sealer = Sealer.from_file(key_path)
    FunctionStore(home, sealer=sealer).create("f", {}, {"Environment": {"Variables": {"A": "home"}}})
    FunctionStore(other, sealer=sealer, region="eu-west-1", account_id="222222222222").create(
        "g", {}, {"Environment": {"Variables": {"B": "away"}}})
    assert rotate(home, MasterKeys(key_path), [other]) == 2
    new = Sealer.from_file(key_path)
    assert FunctionStore(other, sealer=new, region="eu-west-1", account_id="222222222222").get(
        "g").versions["$LATEST"]["Environment"]["Variables"] == {"B": "away"}
    home.close()
    other.close()


def test_rotation_rewraps_api_gateway_key_values(tmp_path):
    from lamb.apis.usage_plans import UsagePlans

    key_path = tmp_path / "master.key"
    db = Database(tmp_path / "lamb.db")
    UsagePlans(db, Sealer.from_file(key_path)).put_key({"id": "k1", "name": "n", "enabled": True}, "v" * 30)
    assert rotate(db, MasterKeys(key_path)) == 1
    assert UsagePlans(db, Sealer.from_file(key_path)).value("k1") == "v" * 30
    db.close()
