"""``/_lamb/stacks``: the stack records of ``lamb deploy`` over HTTP (store/stacks.py).

    GET    /_lamb/stacks            {"Stacks": [record, ...], "Region": r, "AccountId": a} (what ARNs will say)
    GET    /_lamb/stacks/<name>     record (with "Revision") or 404
    PUT    /_lamb/stacks/<name>     body: record; header If-Match: <revision read> (0 or absent: must not exist)
                                    → {"Revision": n}, or 412 {"Revision": current} when someone else wrote
    DELETE /_lamb/stacks/<name>     If-Match as for PUT → 204, or 412

Lamb's own route, not an AWS API: CloudFormation is not served (docs/architecture.md, "lamb deploy").
"""

from __future__ import annotations

import json

from .http.server import Request, Response
from .store.stacks import NAME, Conflict, StackStore

PREFIX = "/_lamb/stacks"


def _json(status: int, obj) -> Response:
    return Response(status, [("Content-Type", "application/json")], json.dumps(obj).encode())


def serve(stacks: StackStore, req: Request, identity: dict[str, str]) -> Response:
    """``identity``: this Lamb's {"Region", "AccountId"}, for templates' AWS::Region / AWS::AccountId."""
    path = req.path
    if path == PREFIX:
        if req.method != "GET":
            return _json(405, {"message": "method not allowed"})
        return _json(200, {"Stacks": stacks.list(), **identity})
    name = path[len(PREFIX) + 1:]
    if not NAME.match(name):
        return _json(400, {"message": f"invalid stack name {name!r}"})
    try:
        expected = int(req.headers.get("if-match", "0") or 0)
    except ValueError:
        return _json(400, {"message": "If-Match must be a revision number"})
    try:
        if req.method == "GET":
            record = stacks.get(name)
            return _json(200, record) if record is not None else _json(404, {"message": f"Stack {name} does not exist"})
        if req.method == "PUT":
            try:
                record = json.loads(req.body or b"{}")
            except ValueError:
                return _json(400, {"message": "body must be a JSON object"})
            if not isinstance(record, dict):
                return _json(400, {"message": "body must be a JSON object"})
            return _json(200, {"Revision": stacks.put(name, record, expected)})
        if req.method == "DELETE":
            stacks.delete(name, expected)
            return Response(204, [], b"")
    except Conflict as e:
        return _json(412, {"message": str(e), "Revision": e.current})
    return _json(405, {"message": "method not allowed"})
