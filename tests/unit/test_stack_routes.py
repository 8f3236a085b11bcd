"""stack_routes.py: /_lamb/stacks over a real StackStore (Requests built directly)."""

from __future__ import annotations

import json

from lamb import stack_routes
from lamb.http.server import Request
from lamb.store.db import Database
from lamb.store.stacks import StackStore

IDENTITY = {"Region": "eu-west-1", "AccountId": "123456789012"}


def call(stacks, method, path, body=None, revision=None):
    headers = {"if-match": str(revision)} if revision is not None else {}
    req = Request(method, path, "", headers, json.dumps(body).encode() if body is not None else b"", None)
    resp = stack_routes.serve(stacks, req, IDENTITY)
    return resp.status, json.loads(resp.body) if resp.body else None


def test_routes(tmp_path):
    stacks = StackStore(Database(tmp_path / "lamb.db"))
    assert call(stacks, "GET", "/_lamb/stacks") == (200, {"Stacks": [], **IDENTITY})
    assert call(stacks, "GET", "/_lamb/stacks/app")[0] == 404
    assert call(stacks, "PUT", "/_lamb/stacks/app", {"Status": "CREATE_COMPLETE"}) == (200, {"Revision": 1})
    status, body = call(stacks, "PUT", "/_lamb/stacks/app", {"Status": "X"}, revision=0)
    assert (status, body["Revision"]) == (412, 1)
    assert call(stacks, "GET", "/_lamb/stacks/app")[1]["Status"] == "CREATE_COMPLETE"
    assert call(stacks, "PUT", "/_lamb/stacks/app", [1], revision=1)[0] == 400
    assert call(stacks, "GET", "/_lamb/stacks/1bad")[0] == 400
    assert call(stacks, "DELETE", "/_lamb/stacks/app", revision=1) == (204, None)
    assert call(stacks, "POST", "/_lamb/stacks")[0] == 405
