"""Serving HTTP requests to function URLs on Lamb's port.

A request is a URL request when its ``Host`` is ``<url-id>.<URL domain>`` (see
``address``) or its path is ``/_lamb/url/<url-id>/<path>``. Then, as AWS does
(https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html,
https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html):

1. an unknown url id answers 403 ``{"Message":null}`` (AccessDeniedException);
2. a CORS preflight is answered from the URL's ``Cors`` without invoking;
3. ``AWS_IAM``: the SigV4 signature (service ``lambda``) is verified against the keys
   Lamb holds (``LAMB_URL_IAM_KEYS`` until identities exist);
4. the URL's resource policy must allow both ``lambda:InvokeFunctionUrl`` and
   ``lambda:InvokeFunction`` (the latter with ``lambda:InvokedViaFunctionUrl``), as
   AWS requires of URLs created since October 2025; anything else is 403 with AWS's
   message. Until identity policies exist, a signer of Lamb's own account counts as
   allowed by its identity policy (AWS's same-account rule), so for it only an
   explicit deny refuses;
5. the request becomes a payload 2.0 event (at most 6 MB, else 413) and the function
   runs through the one door, ``Invocations.invoke`` (services/invoke.py); throttles answer 429, a function error,
   a timeout or a malformed result 502 ``Internal Server Error``.

URLs with ``InvokeMode: RESPONSE_STREAM`` answer with a chunked body as the function
writes it, its head from the ``HttpResponseStream`` metadata prelude (``stream.py``); a
function that does not stream is answered as a BUFFERED URL answers it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Callable, NamedTuple

from ..auth import sigv4
from ..http import answering
from ..http.server import Pending, Request, Response
from ..ids import request_id as new_request_id
from ..services.authorize import Who, verdict
from ..services.lineage import with_root
from ..policy import evaluate as policy_eval
from ..policy import document as doc
from ..policy.context import request_keys
from ..policy.resources import policy_of
from ..protocol.errors import AwsError
from . import cors, event, response
from . import stream as url_stream
from .address import Addresses
from .index import UrlIndex


log = logging.getLogger("lamb.urls")

ACTIONS = ("lambda:InvokeFunctionUrl", "lambda:InvokeFunction")


def parse_keys(spec: str, account_id: str) -> dict[str, tuple[str, str]]:
    """``LAMB_URL_IAM_KEYS``: ``AKID=secret[@principal-arn],...`` -> {akid: (secret, arn)}."""
    keys = {}
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        akid, _, rest = entry.partition("=")
        secret, _, arn = rest.partition("@")
        if not akid or not secret:
            raise ValueError(f"LAMB_URL_IAM_KEYS: expected AKID=secret[@arn], got {entry!r}")
        keys[akid] = (secret, arn or f"arn:aws:iam::{account_id}:root")
    return keys


class Signer(NamedTuple):
    """A key that may sign AWS_IAM URL requests: its secret, principal, identity policies
    (None: an account root or a LAMB_URL_IAM_KEYS key, allowed in its account) and session token."""

    secret: str
    arn: str
    policies: list | None = None
    token: str | None = None
    boundary: list | None = None  # its permissions boundary (a user's or a session's role's)
    session: list | None = None  # its STS session's policies (AssumeRole Policy/PolicyArns): they cap the same way
    tags: dict | None = None  # its user's or role's tags (``aws:PrincipalTag/…``)


def _error(status: int, code: str, message: str | None, request_id: str) -> Response:
    return Response(status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", code),
                             ("x-amzn-RequestId", request_id)], response.error_body(message))


def _from_error(e: AwsError, request_id: str) -> Response:
    """An error of the invocation (before or while it runs) as the URL answers it."""
    if e.status == 429:
        return _error(429, e.code, "Rate Exceeded.", request_id)
    if e.status is not None and e.status >= 500:
        return _bad_gateway(request_id)
    return _error(e.status or 400, e.code, e.message, request_id)


def _finish_headers(out_headers: list[tuple[str, str]], cors_conf: dict | None, headers: dict[str, str],
                    request_id: str, trace: str) -> list[tuple[str, str]]:
    if cors_conf:
        out_headers = cors.apply(cors_conf, headers, out_headers)
    out_headers.append(("x-amzn-RequestId", request_id))
    out_headers.append(("X-Amzn-Trace-Id", trace))
    return out_headers


def _bad_gateway(request_id: str) -> Response:
    return Response(502, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)], response.INTERNAL)


class UrlServer:
    """``__call__(request)``: None when the request is not for a function URL."""

    def __init__(self, *, index: UrlIndex, addresses: Callable[[], Addresses], invoke: Callable[..., "asyncio.Future"],
                 call: Callable[..., object], region: str, account_id: str, port: Callable[[], int],
                 iam_keys: dict[str, tuple[str, str]], max_event_bytes: int,
                 signer: Callable[[str], Signer | None] | None = None):
        self.index = index
        self.addresses = addresses
        self.invoke = invoke  # Invocations.invoke: a streamed response reads the invocation's future
        self.call = call  # Invocations.call: a buffered answer is written from the function's own
        self.region = region
        self.account_id = account_id
        self.port = port
        self.iam_keys = iam_keys
        self.signer = signer  # Lamb's identities (issue 17): access key -> Signer
        self.max_event_bytes = max_event_bytes
        self._decisions: dict[tuple, bool] = {}

    def __call__(self, req: Request) -> "asyncio.Future[Response] | Response | None":
        addresses = self.addresses()
        url_id = addresses.id_from_host(req.headers.get("host"))
        path = req.path
        if url_id is None:
            routed = addresses.id_from_path(path)
            if routed is None:
                return None
            url_id, path = routed
        request_id = new_request_id()
        try:
            return self.serve(req, url_id, path, addresses, request_id)
        except AwsError as e:
            return _from_error(e, request_id)

    def serve(self, req: Request, url_id: str, path: str, addresses: Addresses,
              request_id: str) -> "asyncio.Future[Response] | Response | Pending":
        """Everything up to the invocation runs here, synchronously. A buffered answer is a ``Pending``
        written from the function's answer itself (``Invocations.call``: no loop turn between); a
        streamed one a future completed from the invocation's (no task on the way)."""
        found = self.index.lookup(url_id)
        if found is None:  # AWS: a deleted URL is "Forbidden", one that never existed has no message
            message = response.FORBIDDEN if self.index.seen(url_id) else None
            return _error(403, "AccessDeniedException", message, request_id)
        res, url = found
        headers = req.headers
        if url.get("Cors") and cors.is_preflight(req.method, headers):
            return Response(200, cors.preflight(url["Cors"], headers) + [("x-amzn-RequestId", request_id)])
        peer = req.conn.transport.get_extra_info("peername") if req.conn.transport is not None else None
        source_ip = peer[0] if peer else ""
        caller = signer = None
        if url["AuthType"] == "AWS_IAM":
            found: list[Signer] = []

            def secret_for(k: str) -> str | None:
                signer = self._signer(k)
                if signer is not None:
                    found.append(signer)
                return signer.secret if signer is not None else None

            try:
                signed = sigv4.verify(req.method, req.path, req.query, headers, req.body, secret_for, "lambda")
            except sigv4.SignatureError as e:
                return _error(403, e.code, "Forbidden" if e.code == "MissingAuthenticationTokenException" else e.message,
                              request_id)
            if signed.region != self.region:
                return _error(403, "InvalidSignatureException",
                              f"Credential should be scoped to a valid region, not '{signed.region}'. ", request_id)
            signer = found[-1]
            if signer.token != signed.session_token:
                return _error(403, "UnrecognizedClientException", "The security token included in the request is invalid.",
                              request_id)
            caller = event.Caller(signed.access_key, signer.arn.split(":")[4], signer.arn, signed.access_key)
        # The policy is the URL's record's (function or alias); its statements name that ARN.
        if not self._authorized(res.record, url["FunctionArn"], url["AuthType"], caller, source_ip, headers, signer,
                                secure=req.over_tls):
            return _error(403, "AccessDeniedException", response.FORBIDDEN, request_id)
        trace = with_root(headers.get("x-amzn-trace-id"))
        extra = {"x-amzn-trace-id": trace, "x-forwarded-for": source_ip, "x-forwarded-port": str(self.port()),
                 "x-forwarded-proto": "http"}
        payload = event.encode(event.build(
            method=req.method, raw_path=path, raw_query=req.query, headers=headers, body=req.body, url_id=url_id,
            domain=addresses.domain(url_id), account_id=self.account_id, source_ip=source_ip,
            request_id=request_id, extra_headers=extra, caller=caller))
        if req.too_large or len(payload) > self.max_event_bytes:
            return _error(413, "RequestEntityTooLargeException",
                          f"Request must be smaller than {self.max_event_bytes} bytes for the InvokeFunction operation",
                          request_id)
        cors_conf = url.get("Cors")

        def answer(result, exc: "BaseException | None") -> Response:
            return self._respond(result, exc, url_id, res.fn.name, cors_conf, headers, request_id, trace)

        if url.get("InvokeMode") != "RESPONSE_STREAM":
            return answering.answer(
                lambda done: self.call(res.fn.name, res.qualifier, payload, done, trace_header=trace,
                                       request_id=request_id),
                answer, lambda: _bad_gateway(request_id))
        out: asyncio.Future = asyncio.get_running_loop().create_future()
        streamed: list = []  # set once the function streams: the answer is then the stream's

        def on_stream(stream) -> None:  # the function streams: answer as it writes (urls/stream.py)
            streamed.append(stream)
            opened = asyncio.ensure_future(url_stream.open_stream(stream, pending))
            opened.add_done_callback(lambda t: self._opened(t, out, cors_conf, headers, request_id, trace))

        pending = self.invoke(res.fn.name, res.qualifier, payload, trace_header=trace, request_id=request_id,
                              on_stream=on_stream)

        def settled(f: asyncio.Future) -> None:
            if not out.done() and not streamed:  # streamed: its body reads the result
                out.set_result(answer(*answering.outcome(f)))

        pending.add_done_callback(settled)
        return out

    @staticmethod
    def _respond(result, exc: "BaseException | None", url_id: str, function: str, cors_conf: dict | None,
                 headers: dict[str, str], request_id: str, trace: str) -> Response:
        """The answer to a finished invocation (``exc``: why it could not run)."""
        if exc is not None:
            if isinstance(exc, AwsError):
                return _from_error(exc, request_id)
            log.error("function URL %s: invocation failed", url_id, exc_info=exc)
            return _bad_gateway(request_id)
        if result.function_error:
            return _bad_gateway(request_id)
        try:
            status, out_headers, body = response.from_result(result.payload)
        except response.Malformed as e:
            log.info("function URL %s: malformed response from %s (%s)", url_id, function, e)
            return _bad_gateway(request_id)
        return Response(status, _finish_headers(out_headers, cors_conf, headers, request_id, trace), body)

    @staticmethod
    def _opened(task: asyncio.Future, out: asyncio.Future, cors_conf: dict | None, headers: dict[str, str],
                request_id: str, trace: str) -> None:
        """A streamed response's head is known (or its prelude was bad: 502)."""
        if out.done() or task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.info("function URL: streamed response refused (%s)", exc)
            out.set_result(_bad_gateway(request_id))
            return
        status, out_headers, body = task.result()
        out.set_result(Response(status, _finish_headers(out_headers, cors_conf, headers, request_id, trace),
                                stream=body))

    def _signer(self, access_key: str) -> Signer | None:
        found = self.signer(access_key) if self.signer is not None else None
        if found is None and access_key in self.iam_keys:
            found = Signer(*self.iam_keys[access_key])
        return found

    def _authorized(self, record: dict, arn: str, auth_type: str, caller: "event.Caller | None", source_ip: str,
                    headers: dict[str, str], signer: Signer | None = None, *, secure: bool = False) -> bool:
        """Both actions allowed by the resource policy (same-account signers: not denied).

        The decision is remembered per policy revision, auth type and caller when the
        policy's conditions use only keys that are the same for every request of the URL."""
        stored = policy_of(record)
        key = (stored["RevisionId"] if stored else None, auth_type, caller.user_arn if caller else None, arn)
        known = self._decisions.get(key)
        if known is not None:
            return known
        document = stored["Document"] if stored else None
        decision = self._decide(document, arn, auth_type, caller, source_ip, headers, signer, secure=secure)
        if (signer is None or signer.policies is None) and _request_independent(document):
            if len(self._decisions) > 10_000:
                self._decisions.clear()
            self._decisions[key] = decision
        return decision

    def _decide(self, document: dict | None, arn: str, auth_type: str, caller: "event.Caller | None", source_ip: str,
                headers: dict[str, str], signer: Signer | None = None, *, secure: bool = False) -> bool:
        context = {
            "lambda:FunctionUrlAuthType": auth_type,
            "lambda:InvokedViaFunctionUrl": "true",
            **request_keys(source_ip, headers, secure=secure),
        }
        if caller is None:  # AuthType NONE: the URL's policy must allow an anonymous caller both actions
            anonymous = policy_eval.Principal.anonymous()
            return all(policy_eval.evaluate([document], policy_eval.Request(anonymous, action, arn, context))
                       is policy_eval.Decision.ALLOW for action in ACTIONS)
        # A signer: AWS's evaluation of its identity policies, their caps and the URL's policy (services/authorize).
        who = Who(caller.account_id, caller.user_arn, signer.policies if signer is not None else None,
                  session=signer.session if signer is not None else None,
                  boundary=signer.boundary if signer is not None else None,
                  tags=signer.tags if signer is not None else None)
        return all(verdict(who, action, arn, resource_account=self.account_id, resource_policy=document,
                           context=context)[0] is policy_eval.Decision.ALLOW for action in ACTIONS)


# Condition keys whose value is the same for every request to one URL.
_URL_KEYS = frozenset({"lambda:functionurlauthtype", "lambda:invokedviafunctionurl"})


def _request_independent(document: dict | None) -> bool:
    """Whether a policy decides the same for every request of one caller to one URL."""
    for st in doc.statements(document):
        if "${" in json.dumps(st):
            return False
        for block in (st.get("Condition") or {}).values():
            if any(k.lower() not in _URL_KEYS for k in (block or {})):
                return False
    return True


def make_url_server(lamb) -> UrlServer:
    """Wiring (called once by the gateway)."""
    s = lamb.settings
    return UrlServer(index=lamb.urls, addresses=lamb.url_addresses, invoke=lamb.invocations.invoke,
                     call=lamb.invocations.call, region=s.region,
                     account_id=s.account_id, port=lambda: lamb.port,
                     iam_keys=parse_keys(s.url_iam_keys, s.account_id),
                     max_event_bytes=s.limits.sync_payload_max_bytes, signer=lamb.url_signer)


def urls_only(urls: UrlServer):
    """The app of a port that serves function URLs only: any other request is answered
    as a URL that does not exist."""

    def app(req: Request):
        served = urls(req)
        if served is None:
            return _error(403, "AccessDeniedException", None, str(uuid.uuid4()))
        return served

    return app
