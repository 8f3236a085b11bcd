"""Bad requests for every operation of botocore's Lambda model, generated from its shapes.

For each operation a *baseline* request is built from the input shape (URI labels,
query string, headers, JSON body or raw payload), with values that satisfy the
shape's constraints where that is easy. Mutations of it are the bad input: a
required member missing, a member of the wrong JSON type, numbers out of range,
an enum value the model does not list, strings over their maximum, control
characters and NUL, bodies that are not JSON or not UTF-8, wrong content types,
URI labels that are ``..``, ``%00``, 1,000 characters long or ARN variants, and
query parameters and headers of the wrong type.

A seeded ``random.Random`` picks at most ``per_operation`` of them, so a run is
bounded and repeatable (``LAMB_SECURITY_SEED``).
"""

from __future__ import annotations

import base64
import io
import json
import random
import zipfile
from dataclasses import dataclass, field
from typing import Any, Iterator
from urllib.parse import quote

import botocore.session

REGION = "us-east-1"
ACCOUNT = "000000000000"


def lambda_model():
    return botocore.session.get_session().get_service_model("lambda")


def small_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("fn.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


@dataclass
class RawRequest:
    """One HTTP request, ready for http.client."""

    operation: str
    kind: str  # which mutation made it (for the report)
    method: str
    path: str  # already percent-encoded, with the query string
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Targets:
    """Names of resources that exist on the server (so baselines reach the handlers)."""

    function: str
    layer: str
    absent: str = "sec-absent-fn"


# ---------------------------------------------------------------- values from shapes
_HINTS: dict[str, Any] = {
    "Runtime": "python3.12",
    "Handler": "fn.handler",
    "Role": f"arn:aws:iam::{ACCOUNT}:role/sec",
    "MemorySize": 128,
    "Timeout": 3,
    "ReservedConcurrentExecutions": 5,
    "ProvisionedConcurrentExecutions": 1,
    "MaxItems": 10,
    "Qualifier": "$LATEST",
    "FunctionVersion": "$LATEST",
    "StatementId": "sid1",
    "Action": "lambda:InvokeFunction",
    "Principal": "s3.amazonaws.com",
    "Name": "live",
    "VersionNumber": 1,
    "MaximumRetryAttempts": 1,
}
# Optional members a baseline carries too, so that it gets past the first checks.
_INCLUDE = {"Runtime", "Handler", "Code", "Content", "ZipFile", "MaximumRetryAttempts"}


def _string(shape, name: str, targets: Targets) -> str:
    if name in _HINTS and isinstance(_HINTS[name], str):
        return _HINTS[name]
    if shape.enum:
        return shape.enum[0]
    if name == "Arn":
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{targets.layer}:1"
    if name in ("FunctionName",):
        return targets.function
    if name == "LayerName":
        return targets.layer
    if name.endswith("Arn") or name == "Resource":
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{targets.function}"
    lo = shape.metadata.get("min", 1)
    hi = shape.metadata.get("max", 16)
    return "a" * max(1, min(lo, hi) if lo else 1)


def value_for(shape, name: str, targets: Targets, depth: int = 0) -> Any:
    t = shape.type_name
    if t == "structure":
        if depth > 4:
            return {}
        return {m: value_for(s, m, targets, depth + 1) for m, s in shape.members.items()
                if m in shape.required_members or m in _INCLUDE}
    if t == "list":
        return [value_for(shape.member, name, targets, depth + 1)]
    if t == "map":
        return {"key1": value_for(shape.value, name, targets, depth + 1)}
    if t == "string":
        return _string(shape, name, targets)
    if t in ("integer", "long"):
        hint = _HINTS.get(name)
        if isinstance(hint, int):
            return hint
        lo = shape.metadata.get("min")
        return lo if lo is not None else 1
    if t in ("float", "double"):
        return 1.0
    if t == "boolean":
        return False
    if t == "timestamp":
        return 1700000000
    if t == "blob":
        return base64.b64encode(small_zip() if name == "ZipFile" else b"{}").decode()
    return None


# ---------------------------------------------------------------- building requests
def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class OperationRequests:
    """The baseline and the mutations of one operation."""

    def __init__(self, op, targets: Targets):
        self.op = op
        self.targets = targets
        self.shape = op.input_shape
        self.method = op.http["method"]
        self.uri = op.http["requestUri"]
        members = self.shape.members if self.shape is not None else {}
        self.uri_members = {n: s for n, s in members.items() if s.serialization.get("location") == "uri"}
        self.query_members = {n: s for n, s in members.items() if s.serialization.get("location") == "querystring"}
        self.header_members = {n: s for n, s in members.items() if s.serialization.get("location") == "header"}
        self.payload = self.shape.serialization.get("payload") if self.shape is not None else None
        self.body_members = {n: s for n, s in members.items()
                             if s.serialization.get("location") is None and n != self.payload}
        self.required = set(self.shape.required_members) if self.shape is not None else set()

    # -- values
    def _targets(self) -> Targets:
        t = self.targets
        if self.op.name.startswith("Delete"):
            t = Targets(t.absent, t.absent, t.absent)  # never delete what the other requests use
        return t

    def baseline_params(self) -> dict[str, Any]:
        t = self._targets()
        if self.shape is None:
            return {}
        params = {}
        for n, s in self.shape.members.items():
            if n in self.required or n in self.uri_members or n in _INCLUDE:
                params[n] = value_for(s, n, t)
        if self.op.name == "CreateFunction":
            params["FunctionName"] = "sec-created"
        return params

    def build(self, params: dict[str, Any], kind: str, *, labels: dict[str, str] | None = None,
              body: bytes | None = None, content_type: str | None = "application/json",
              extra_query: str = "", extra_headers: dict[str, str] | None = None) -> RawRequest:
        path = self.uri
        raw_labels = labels or {}
        for n, s in self.uri_members.items():
            wire = s.serialization.get("name", n)
            if n in raw_labels:
                enc = raw_labels[n]
            elif n in params:
                enc = quote(_text(params[n]), safe="")
            else:
                enc = ""
            path = path.replace("{%s+}" % wire, enc).replace("{%s}" % wire, enc)
        query: list[str] = []
        for n, s in self.query_members.items():
            if n in params:
                wire = s.serialization.get("name", n)
                values = params[n] if isinstance(params[n], list) else [params[n]]
                query += [f"{quote(wire)}={quote(_text(v), safe='')}" for v in values]
        if extra_query:
            query.append(extra_query)
        if query:
            path += ("&" if "?" in path else "?") + "&".join(query)
        headers = {}
        for n, s in self.header_members.items():
            if n in params:
                headers[s.serialization.get("name", n)] = _text(params[n])
        if body is None:
            if self.payload is not None:
                value = params.get(self.payload)
                pshape = self.shape.members[self.payload]
                if pshape.type_name == "blob":
                    body = b"{}" if value is None else (value if isinstance(value, bytes) else base64.b64decode(value))
                else:
                    body = json.dumps(value).encode() if value is not None else b""
            else:
                doc = {n: v for n, v in params.items() if n in self.body_members}
                body = json.dumps(doc).encode() if (doc or self.body_members) else b""
        if content_type is not None and body:
            headers["Content-Type"] = content_type
        headers.update(extra_headers or {})
        return RawRequest(self.op.name, kind, self.method, path, headers, body)

    # -- mutations
    def all(self) -> Iterator[RawRequest]:
        base = self.baseline_params()
        yield self.build(base, "baseline")
        yield from self._missing(base)
        yield from self._bodies(base)
        yield from self._members(base)
        yield from self._labels(base)
        yield from self._query_and_headers(base)

    def _missing(self, base):
        for n in sorted(self.required):
            if n in self.uri_members:
                continue
            yield self.build({k: v for k, v in base.items() if k != n}, f"missing:{n}")

    def _bodies(self, base):
        if self.method in ("GET", "DELETE") and not self.body_members and self.payload is None:
            # A body where the operation takes none, and a wrong content type.
            yield self.build(base, "unexpected-body", body=b'{"x": 1}')
            return
        for label, body in [
            ("json-truncated", b'{"a": '),
            ("json-array", b"[]"),
            ("json-string", b'"x"'),
            ("json-null", b"null"),
            ("json-number", b"12"),
            ("json-garbage", b"\x00\x01\x02garbage"),
            ("non-utf8", b'{"FunctionName": "\xff\xfe\xc3\x28"}'),
            ("lone-surrogate", b'{"FunctionName": "\\ud800"}'),
            ("deep-array", b"[" * 20_000 + b"]" * 20_000),
            ("deep-object", b'{"a":' * 20_000 + b"1" + b"}" * 20_000),
            ("duplicate-keys", b'{"Description": "a", "Description": 5}'),
            ("huge-number", b'{"MemorySize": 1e999999}'),
            ("nan", b'{"MemorySize": NaN}'),
        ]:
            yield self.build(base, f"body:{label}", body=body)
        for ct in ("text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-amz-json-1.1",
                   "application/json; charset=latin-1", "\x7f"):
            yield self.build(base, f"content-type:{ct[:20]}", content_type=ct)

    def _members(self, base):
        for n, s in sorted({**self.body_members, **self.query_members, **self.header_members}.items()):
            for label, value in self._bad_values(s, n):
                params = dict(base)
                params[n] = value
                yield self.build(params, f"member:{n}:{label}")

    def _bad_values(self, shape, name: str) -> Iterator[tuple[str, Any]]:
        t = shape.type_name
        wrong = {"string": 12345, "integer": "twelve", "long": "twelve", "boolean": "yes", "list": {"a": 1},
                 "map": ["a"], "structure": ["a"], "blob": 12, "timestamp": "yesterday"}
        if t in wrong:
            yield "wrong-type", wrong[t]
        if t in ("integer", "long"):
            lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
            if lo is not None:
                yield "below-min", lo - 1
            if hi is not None:
                yield "above-max", hi + 1
            yield "huge", 10**30
            yield "negative", -(2**63) - 1
            yield "float", 1.5
        if t == "string":
            if shape.enum:
                yield "bad-enum", "NOT_A_" + shape.enum[0]
            hi = shape.metadata.get("max")
            yield "over-long", "a" * ((hi or 10_000) + 1)
            yield "nul", "a\x00b"
            yield "control", "a\x01\x1f\x7f\u202e\ufffeb"
            yield "empty", ""
        if t == "list":
            yield "null-items", [None]
            yield "many-items", ["a"] * 1000
        if t == "map":
            yield "nul-key", {"k\x00": "v"}
            yield "bad-key", {"": "v", "a" * 300: "v"}
        if t == "structure":
            yield "unknown-members", {"NotAMember": 1}
            yield "null", None
        if t == "blob":
            yield "not-base64", "!!!not base64!!!"

    def _labels(self, base):
        t = self._targets()
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{t.function}"
        variants = [
            ("dotdot", ".."),
            ("dot", "."),
            ("nul", "%00"),
            ("nul-mid", "a%00b"),
            ("encoded-dotdot", "%2e%2e"),
            ("slash", "a%2Fb"),
            ("traversal", "..%2F..%2Fetc%2Fpasswd"),
            ("long-1000", "a" * 1000),
            ("unicode", quote("función-λ", safe="")),
            ("bad-percent", "%zz"),
            ("arn-full", quote(arn, safe="")),
            ("arn-qualified", quote(arn + ":$LATEST", safe="")),
            ("arn-other-region", quote(arn.replace(REGION, "eu-west-1"), safe="")),
            ("arn-other-account", quote(arn.replace(ACCOUNT, "123456789012"), safe="")),
            ("arn-empty-parts", quote("arn:aws:lambda:::function:", safe="")),
            ("arn-layer", quote(f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{t.layer}:1", safe="")),
            ("arn-garbage", quote("arn:aws:lambda:" + ":" * 20, safe="")),
            ("partial-arn", quote(f"{ACCOUNT}:function:{t.function}", safe="")),
            ("control", "a%01%1Fb"),
        ]
        for n, s in sorted(self.uri_members.items()):
            for label, enc in variants:
                labels = {n: enc}
                yield self.build(base, f"label:{n}:{label}", labels=labels)
            if s.type_name in ("integer", "long"):
                for label, enc in [("not-number", "abc"), ("negative", "-1"), ("huge", "9" * 30)]:
                    yield self.build(base, f"label:{n}:{label}", labels={n: enc})

    def _query_and_headers(self, base):
        yield self.build(base, "query:unknown", extra_query="NotAParam=1&%00=%00")
        yield self.build(base, "query:bad-percent", extra_query="Marker=%zz%")
        yield self.build(base, "header:nul-like", extra_headers={"X-Amz-Client-Context": "%00\\u0000"})
        if self.op.name in ("Invoke", "InvokeAsync"):
            nested = "[" * 50_000 + "]" * 50_000
            ctx = base64.b64encode(nested.encode()).decode()
            yield self.build(base, "header:client-context-nested", extra_headers={"X-Amz-Client-Context": ctx[:6000]})
            for kind in ("Event", "RequestResponse"):
                for label, body in [("deep-array", b"[" * 100_000 + b"]" * 100_000),
                                    ("deep-object", b'{"a":' * 50_000),
                                    ("non-utf8", b'{"a": "\xff"}'),
                                    ("nul", b'{"a": "\x00"}')]:
                    yield self.build(base, f"payload:{kind}:{label}", body=body,
                                     extra_headers={"X-Amz-Invocation-Type": kind})


_RANDOM_STRINGS = ["", " ", "\x00", "\u0000\u0001", "..", "../../../../etc/passwd", "%00", "$LATEST", "\ud7ff\ue000",
                   "😀" * 70, "a" * 70, "arn:aws:lambda:us-east-1:000000000000:function:x:1:2:3", "null", "{}", "[]"]


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.choice(_RANDOM_STRINGS)
    if kind == 1:
        return "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(1, 40)))
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, 2**63, -(2**64), 10**400 // 10**380, 0.5, 1e308])
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return "x" * rng.choice([255, 256, 1024, 65536])
    if kind == 5:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(_RANDOM_STRINGS + ["FunctionName", "ZipFile", "Variables"]): _random_value(rng, depth + 1)
            for _ in range(rng.randrange(4))}


def random_cases(reqs: OperationRequests, rng: random.Random, n: int) -> Iterator[RawRequest]:
    """Seeded random values in random members (body, query, headers), several at a time."""
    names = sorted({**reqs.body_members, **reqs.query_members, **reqs.header_members})
    base = reqs.baseline_params()
    for i in range(n):
        params = dict(base)
        for name in rng.sample(names, min(len(names), rng.randrange(1, 4))) if names else []:
            params[name] = _random_value(rng)
        if rng.random() < 0.2 or not names:
            body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
            yield reqs.build(params, f"random:{i}:bytes", body=body)
        else:
            yield reqs.build(params, f"random:{i}")


def generate(targets: Targets, seed: int, per_operation: int, random_per_operation: int = 0) -> dict[str, list[RawRequest]]:
    """Every operation's requests: the baseline, a seeded sample of its mutations, seeded random cases."""
    model = lambda_model()
    rng = random.Random(seed)
    out: dict[str, list[RawRequest]] = {}
    for name in sorted(model.operation_names):
        gen = OperationRequests(model.operation_model(name), targets)
        reqs = list(gen.all())
        first, rest = reqs[:1], reqs[1:]
        if len(rest) > per_operation - 1:
            # Keep every payload, body and label case of the operations that take them; sample the rest.
            must = [r for r in rest if r.kind.startswith(("payload:", "body:deep"))]
            others = [r for r in rest if r not in must]
            rest = must + rng.sample(others, max(0, per_operation - 1 - len(must)))
        out[name] = first + rest + list(random_cases(gen, rng, random_per_operation))
    return out


def error_statuses(op) -> set[int]:
    return {s.metadata.get("error", {}).get("httpStatusCode") for s in op.error_shapes} - {None}


def model_error_status() -> dict[str, int]:
    model = lambda_model()
    out = {}
    for s in model.error_shapes:
        err = s.metadata.get("error", {})
        if "httpStatusCode" in err:
            out[err.get("code", s.name)] = err["httpStatusCode"]
    return out
