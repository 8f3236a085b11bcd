"""Authentication against the identity store: AWS's errors, sessions, auth off."""

import time

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lamb.identity.authn import Authenticator
from lamb.identity.store import IdentityStore
from lamb.protocol.errors import AwsError
from lamb.sealing import Sealer
from lamb.store.db import Database


@pytest.fixture
def store(tmp_path):
    db = Database(tmp_path / "db")
    s = IdentityStore(db, Sealer.from_file(tmp_path / "k"))
    s.ensure_account("111111111111")
    yield s
    db.close()


def signed(key: str, secret: str, service: str = "lambda", token: str | None = None):
    req = AWSRequest("GET", "http://h/2015-03-31/functions/")
    SigV4Auth(Credentials(key, secret, token), service, "us-east-1").add_auth(req)
    headers = {k.lower(): v for k, v in req.headers.items()}
    headers["host"] = "h"
    return ("GET", "/2015-03-31/functions/", "", headers, b"", service)


def test_root_key_authenticates_as_the_account_root(store):
    root = store.root_keys("111111111111")[0]
    caller = Authenticator(store, "111111111111", enabled=True).authenticate(*signed(root.access_key_id, root.secret))
    assert caller.arn == "arn:aws:iam::111111111111:root" and caller.is_root


def test_errors_are_awss_and_query_services_name_them_their_way(store):
    a = Authenticator(store, "111111111111", enabled=True)
    with pytest.raises(AwsError) as e:
        a.authenticate("GET", "/", "", {}, b"", "lambda")
    assert (e.value.code, e.value.message, e.value.status) == (
        "MissingAuthenticationTokenException", "Missing Authentication Token", 403)
    with pytest.raises(AwsError) as e:
        a.authenticate(*signed("AKIANOPE", "x", "sts"))
    assert (e.value.code, e.value.status) == ("InvalidClientTokenId", 403)


def test_sessions_need_their_token_and_expire(store):
    k = store.add_key("111111111111", "arn:aws:sts::111111111111:assumed-role/r/s", token="tok",
                      expires=time.time() + 60, role_arn="arn:aws:iam::111111111111:role/r")
    now = [time.time()]
    a = Authenticator(store, "111111111111", enabled=True, clock=lambda: now[0])
    assert a.authenticate(*signed(k.access_key_id, k.secret, token="tok")).arn.endswith("assumed-role/r/s")
    with pytest.raises(AwsError) as e:
        a.authenticate(*signed(k.access_key_id, k.secret, token="other"))
    assert e.value.code == "UnrecognizedClientException"
    now[0] += 120
    with pytest.raises(AwsError) as e:
        a.authenticate(*signed(k.access_key_id, k.secret, token="tok"))
    assert e.value.code == "ExpiredTokenException"


def test_auth_off_makes_everyone_the_home_root(store):
    caller = Authenticator(store, "111111111111", enabled=False).authenticate("GET", "/", "", {}, b"", "lambda")
    assert caller.arn == "arn:aws:iam::111111111111:root" and caller.key is None


def test_keys_survive_a_restart_sealed(tmp_path, store):
    root = store.root_keys("111111111111")[0]
    raw = store.db.query("SELECT data FROM iam_entities WHERE kind = 'key'")[0][0]
    assert root.secret not in raw
    again = IdentityStore(store.db, store.sealer)
    assert again.key(root.access_key_id).secret == root.secret
