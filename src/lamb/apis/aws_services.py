"""AWS service integrations: API Gateway calling SQS, EventBridge, Kinesis, Step Functions … itself.

HTTP APIs (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-aws-services.html,
…/http-api-develop-integrations-aws-services-reference.html): an ``AWS_PROXY`` integration with an
``IntegrationSubtype`` (``SUBTYPES``) calls one action of a service with the parameters its
``RequestParameters`` map (static text with ``$request.body.x``, ``$request.header.x``,
``$request.querystring.x``, ``$request.path.x``, ``$context.x``, ``$stageVariables.x`` in it:
``http_proxy.expression``), as the integration's ``CredentialsArn`` role, with payload format 1.0.
The service's answer comes back with its status code and JSON body; SQS answers in the JSON form
of its query API (``{"SendMessageResponse": {"SendMessageResult": …, "ResponseMetadata": …}}``,
errors ``{"Error": {"Code", "Message", "Type"}, "RequestId"}``), as API Gateway relays it.

REST APIs (https://docs.aws.amazon.com/apigateway/latest/developerguide/integrating-api-with-aws-services-kinesis.html
and the ``uri`` member of PutIntegration): a type ``AWS`` integration whose ``uri`` is
``arn:aws:apigateway:{region}:{service}:action/{Action}`` or ``…:{service}:path/{path}`` sends an
HTTP request to the service's endpoint, signed with SigV4: the body is the mapping template's output
(``mapped.request_payload``) and ``requestParameters`` fill the path, query string and headers. The
action form addresses the action as the service's protocol does (``X-Amz-Target`` and
``application/x-amz-json-1.x`` for JSON services, ``Action=…&Version=…`` for query services, the
operation's method and URI for REST services); the path form sends ``httpMethod`` to ``/{path}``.
The raw answer goes through the integration responses (``selectionPattern`` on the status code).

Where the calls go: boto3's standard configuration (``AWS_ENDPOINT_URL_<SERVICE>``, the credentials
chain, profiles), the integration's region. Whose credentials: the role's from an upstream STS
(``LAMB_UPSTREAM_STS=on``: ``services.role_clients``, session name ``apigateway``), which then
decides what the call may do; without one, Lamb's own configuration, after Lamb's IAM checked that
the role exists and trusts ``apigateway.amazonaws.com`` (``Credentials.may_assume``).

Calls block (botocore, http.client): they run on this module's bounded pool
(``api_aws_integration_workers``), never on the event loop; the integration timeout bounds the wait.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping, NamedTuple
import uuid
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from . import http_proxy
from ..cpus import release_thread

SESSION = "apigateway"  # the session name of the assumed role


class Subtype(NamedTuple):
    service: str  # botocore's service name
    operation: str
    required: tuple[str, ...]
    optional: tuple[str, ...]


# The reference's table (Region is every subtype's optional parameter: the call's region).
SUBTYPES: dict[str, Subtype] = {
    "EventBridge-PutEvents": Subtype("events", "PutEvents", ("Detail", "DetailType", "Source"),
                                     ("Time", "EventBusName", "Resources", "TraceHeader")),
    "SQS-SendMessage": Subtype("sqs", "SendMessage", ("QueueUrl", "MessageBody"),
                               ("DelaySeconds", "MessageAttributes", "MessageDeduplicationId", "MessageGroupId",
                                "MessageSystemAttributes")),
    "SQS-ReceiveMessage": Subtype("sqs", "ReceiveMessage", ("QueueUrl",),
                                  ("AttributeNames", "MaxNumberOfMessages", "MessageAttributeNames",
                                   "ReceiveRequestAttemptId", "VisibilityTimeout", "WaitTimeSeconds")),
    "SQS-DeleteMessage": Subtype("sqs", "DeleteMessage", ("ReceiptHandle", "QueueUrl"), ()),
    "SQS-PurgeQueue": Subtype("sqs", "PurgeQueue", ("QueueUrl",), ()),
    "AppConfig-GetConfiguration": Subtype("appconfig", "GetConfiguration",
                                          ("Application", "Environment", "Configuration", "ClientId"),
                                          ("ClientConfigurationVersion",)),
    "Kinesis-PutRecord": Subtype("kinesis", "PutRecord", ("StreamName", "Data", "PartitionKey"),
                                 ("SequenceNumberForOrdering", "ExplicitHashKey")),
    "StepFunctions-StartExecution": Subtype("stepfunctions", "StartExecution", ("StateMachineArn",),
                                            ("Name", "Input")),
    "StepFunctions-StartSyncExecution": Subtype("stepfunctions", "StartSyncExecution", ("StateMachineArn",),
                                                ("Name", "Input", "TraceHeader")),
    "StepFunctions-StopExecution": Subtype("stepfunctions", "StopExecution", ("ExecutionArn",), ("Cause", "Error")),
}
# EventBridge-PutEvents takes one entry: its parameters are the members of PutEvents' Entries[0].
_ENTRY = ("Detail", "DetailType", "Source", "Time", "EventBusName", "Resources", "TraceHeader")
_SOURCE = re.compile(r"\$(?:request\.(?:header|querystring|path|body)|context|stageVariables)\b")


def _invalid(errors: str) -> str:
    return f"Invalid selection expression specified: Validation Result: warnings : [], errors : [{errors}]"


def check_subtype(item: Mapping) -> str | None:
    """Why an ``AWS_PROXY`` integration with ``IntegrationSubtype`` is invalid (CreateIntegration's 400), or None."""
    name = item.get("IntegrationSubtype")
    sub = SUBTYPES.get(name)
    if sub is None:
        return f"Unsupported integration subtype: {name}. Valid values are: " + ", ".join(SUBTYPES)
    if not item.get("CredentialsArn"):
        return f"CredentialsArn is required for integration subtype {name}"
    if item.get("PayloadFormatVersion", "1.0") != "1.0":
        return f"Integration subtype {name} supports only PayloadFormatVersion 1.0"
    params = item.get("RequestParameters") or {}
    allowed = set(sub.required) | set(sub.optional) | {"Region"}
    for key, value in params.items():
        if key not in allowed:
            return _invalid(f"Parameter: {key} does not fit schema for Operation: {name}.")
        text = str(value)
        if not text or (text[:1] in "{[" and not _SOURCE.search(text)):  # JSON literals are refused by AWS
            return _invalid(f"Invalid source: {text} specified for destination: {key}")
    missing = [p for p in sub.required if p not in params]
    if missing:
        return _invalid(", ".join(f"Parameter: {p} is required for Operation: {name}." for p in missing))
    return None


# ------------------------------------------------------------------ answers
class Answer(NamedTuple):
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Refused(Exception):
    """The call could not be made (the role cannot be assumed, the service cannot be reached, …): 500."""


class BadParameters(Exception):
    """A mapped value does not fit the action's parameter (not a number, not JSON, …): 400."""


def _typed(shape: Any, value: str) -> Any:
    """A mapped text value as the parameter's type (botocore's input shape)."""
    kind = shape.type_name
    try:
        if kind == "integer" or kind == "long":
            return int(value)
        if kind in ("float", "double"):
            return float(value)
        if kind == "boolean":
            return value.strip().lower() == "true"
        if kind in ("list", "map", "structure"):
            return json.loads(value)
        if kind == "blob":  # sent base64-encoded on the wire: the mapped value is that text
            return base64.b64decode(value, validate=True)
    except (ValueError, TypeError) as e:
        raise BadParameters(f"{shape.name}: {e}") from None
    return value


def call_arguments(subtype: str, values: Mapping[str, str], model: Any) -> tuple[dict, str | None]:
    """The boto3 call's arguments from the mapped values (empty optional ones left out), and the Region."""
    sub = SUBTYPES[subtype]
    region = values.get("Region") or None
    op = model.operation_model(sub.operation)
    members = op.input_shape.members
    if sub.operation == "PutEvents":
        entry_shape = members["Entries"].member.members
        entry = {k: _typed(entry_shape[k], v) for k, v in values.items() if k in _ENTRY and (v or k in sub.required)}
        return {"Entries": [entry]}, region
    named = {m.lower(): m for m in members}  # Step Functions' members are camelCase
    args = {named[k.lower()]: _typed(members[named[k.lower()]], v) for k, v in values.items()
            if k != "Region" and k.lower() in named and (v or k in sub.required)}
    return args, region


def sqs_query_json(operation: str, status: int, headers: Mapping[str, str], body: bytes, model: Any) -> bytes:
    """SQS's JSON answer in the form of its query API's JSON (what API Gateway returns for SQS subtypes)."""
    request_id = headers.get("x-amzn-requestid", "")
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        doc = {}
    if status >= 300:
        query = headers.get("x-amzn-query-error", "")
        code, _, fault = query.partition(";")
        code = code or str(doc.get("__type", "")).rpartition("#")[2]
        return json.dumps({"Error": {"Code": code, "Message": doc.get("message") or doc.get("Message"),
                                     "Type": fault or ("Sender" if status < 500 else "Receiver")},
                           "RequestId": request_id}).encode()
    out: dict = {"ResponseMetadata": {"RequestId": request_id}}
    shape = model.operation_model(operation).output_shape
    if shape is not None and shape.members:
        result = {}
        for name, member in shape.members.items():
            value = doc.get(name)
            if name == "Messages":  # the query API's JSON lists messages as "messages", every member present
                result["messages"] = [{k: m.get(k) for k in member.member.members} for m in value or []] or None
            else:
                result[name] = value
        out[f"{operation}Result"] = result
    return json.dumps({f"{operation}Response": out}).encode()


def resource_of(subtype: str, args: Mapping[str, Any], region: str, account: str) -> str:
    """The ARN of what a subtype's call acts on (what the role's policies are evaluated against)."""
    sub = SUBTYPES[subtype]
    if sub.service == "sqs":
        parts = urlsplit(str(args.get("QueueUrl", ""))).path.strip("/").split("/")
        owner, name = (parts[-2], parts[-1]) if len(parts) >= 2 else (account, parts[-1])
        return f"arn:aws:sqs:{region}:{owner}:{name}"
    if sub.service == "events":
        bus = str(args["Entries"][0].get("EventBusName") or "default")
        return bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{account}:event-bus/{bus}"
    if sub.service == "kinesis":
        return f"arn:aws:kinesis:{region}:{account}:stream/{args.get('StreamName', '')}"
    if sub.service == "stepfunctions":
        return str(args.get("stateMachineArn") or args.get("executionArn") or "")
    return (f"arn:aws:appconfig:{region}:{account}:application/{args.get('Application', '')}/environment/"
            f"{args.get('Environment', '')}/configuration/{args.get('Configuration', '')}")


def access_denied(service: str, message: str, request_id: str) -> Answer:
    """A service's AccessDenied answer, in the form API Gateway relays it (SQS: its query JSON, 403)."""
    if service == "sqs":
        return Answer(403, [("Content-Type", "application/json")], json.dumps(
            {"Error": {"Code": "AccessDenied", "Message": message, "Type": "Sender"}, "RequestId": request_id}).encode())
    return Answer(400, [("Content-Type", "application/json")],
                  json.dumps({"__type": "AccessDeniedException", "Message": message}).encode())


# ------------------------------------------------------------------ REST APIs' URIs
# An ARN's service is the endpoint prefix; botocore names a few services otherwise.
_BY_PREFIX = {"states": "stepfunctions", "monitoring": "cloudwatch", "email": "ses", "execute-api": "apigateway"}
_URI = re.compile(r"arn:aws[a-zA-Z-]*:apigateway:([a-z0-9-]+):(?:[a-z0-9-]+\.)?([a-z0-9-]+):(action|path)/(.+)")


class Target(NamedTuple):
    region: str
    service: str  # botocore's name
    form: str  # "action" or "path"
    rest: str  # the action's name, or the path


def rest_target(uri: str) -> Target | None:
    """A REST integration URI's parts, or None when it is not an AWS service URI (or names Lambda's)."""
    m = _URI.fullmatch(uri)
    if m is None or m.group(2) == "lambda":
        return None
    return Target(m.group(1), _BY_PREFIX.get(m.group(2), m.group(2)), m.group(3), m.group(4))


def is_service_uri(uri: object) -> bool:
    return isinstance(uri, str) and rest_target(uri) is not None


_PATH_VAR = re.compile(r"\{([A-Za-z0-9_.\-]+?)(\+?)\}")


def rest_request(target: Target, model: Any, method: str, path_values: Mapping[str, str],
                 query: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> tuple[str, str, dict, bytes]:
    """(method, path with query, headers, body) of a REST AWS integration's request to the service."""
    hdrs = dict(headers)
    pairs = list(query.items())

    def fill(path: str) -> str:
        return _PATH_VAR.sub(lambda m: quote(path_values.get(m.group(1), ""), safe="/" if m.group(2) else ""), path)

    if target.form == "path":
        path = "/" + fill(target.rest).lstrip("/")
    else:
        protocol = model.metadata.get("protocol")
        op = model.operation_model(target.rest)  # KeyError: no such action
        if protocol == "json":
            method, path = "POST", "/"
            hdrs.setdefault("X-Amz-Target", f"{model.metadata['targetPrefix']}.{target.rest}")
            hdrs.setdefault("Content-Type", f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}")
        elif protocol in ("query", "ec2"):
            path = "/"
            pairs = [("Action", target.rest), ("Version", model.metadata["apiVersion"])] + pairs
            if body:
                hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        else:  # rest-json, rest-xml: the operation's own method and URI, its labels from the path parameters
            method = op.http.get("method", method)
            uri, _, fixed = op.http.get("requestUri", "/").partition("?")
            path = fill(uri)
            if fixed:
                pairs = [tuple(p.partition("=")[::2]) for p in fixed.split("&")] + pairs
    qs = urlencode(pairs, quote_via=quote, safe="-_.~")
    return method, path + ("?" + qs if qs else ""), hdrs, body


_S3_ACTIONS = {"GET": "GetObject", "HEAD": "GetObject", "PUT": "PutObject", "DELETE": "DeleteObject"}


def rest_permission(target: Target, model: Any, method: str, path: str, body: bytes,
                    account: str) -> tuple[str, str] | None:
    """(IAM action, resource ARN) of a REST AWS integration's request (as ``rest_request`` built it), or None
    when Lamb cannot tell (then Lamb's IAM does not evaluate the role's policies for it)."""
    prefix, region = _signing_name(model), target.region
    route, _, qs = path.partition("?")
    values: dict[str, Any] = dict(parse_qsl(qs, keep_blank_values=True))
    protocol = model.metadata.get("protocol")
    try:
        if protocol in ("query", "ec2") or (target.form == "path" and target.service == "sqs"):  # a form
            values.update(parse_qsl(body.decode(), keep_blank_values=True))
        elif protocol == "json" and body.strip():
            doc = json.loads(body)
            values.update(doc if isinstance(doc, dict) else {})
    except (ValueError, UnicodeDecodeError):
        return None
    if target.service == "s3":
        key = unquote(route.lstrip("/"))
        action = target.rest if target.form == "action" else _S3_ACTIONS.get(method)
        return (f"s3:{action}", f"arn:aws:s3:::{key}") if action and key else None
    action = target.rest if target.form == "action" else values.get("Action")
    if not action:
        return None
    if target.service == "sqs":
        where = str(values.get("QueueUrl") or route)
        parts = urlsplit(where).path.strip("/").split("/")
        return (f"sqs:{action}", f"arn:aws:sqs:{region}:{parts[-2]}:{parts[-1]}") if len(parts) >= 2 else None
    resource = None
    if target.service == "sns":
        resource = values.get("TopicArn") or values.get("TargetArn")
    elif target.service == "dynamodb" and values.get("TableName"):
        resource = f"arn:aws:dynamodb:{region}:{account}:table/{values['TableName']}"
    elif target.service == "kinesis":
        resource = values.get("StreamARN") or (values.get("StreamName") and
                                               f"arn:aws:kinesis:{region}:{account}:stream/{values['StreamName']}")
    elif target.service == "events":
        entries = values.get("Entries")
        first = entries[0] if isinstance(entries, list) and entries and isinstance(entries[0], dict) else {}
        bus = str(first.get("EventBusName") or "default")
        resource = bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{account}:event-bus/{bus}"
    elif target.service == "stepfunctions":
        resource = values.get("stateMachineArn") or values.get("executionArn")
    return (f"{prefix}:{action}", str(resource)) if resource else None


def rest_access_denied(target: Target, model: Any, message: str, request_id: str) -> Answer:
    """A service's AccessDenied as its protocol answers it (REST integrations map the raw answer)."""
    if model.metadata.get("protocol") == "json":
        return Answer(400, [("Content-Type", "application/x-amz-json-1.0")],
                      json.dumps({"__type": "AccessDeniedException", "Message": message}).encode())
    text = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if target.service == "s3":
        body = f"<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>{request_id}</RequestId></Error>"
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{text}</Message>"
                f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    return Answer(403, [("Content-Type", "text/xml")], ('<?xml version="1.0"?>' + body).encode())


# ------------------------------------------------------------------ calling
class AwsServices:
    """``subtype(...)`` / ``rest(...)``: futures of a service's ``Answer``, on a bounded pool of threads."""

    def __init__(self, clients: Any, workers: int, max_body: int,
                 may_assume: Callable[[str], bool] | None = None,
                 refusal: Callable[[str, str, str], str | None] | None = None,
                 endpoint: Callable[[str, str], str] | None = None,
                 own_credentials: Callable[[], Any] | None = None) -> None:
        self.clients = clients  # services.role_clients.RoleClients: whose credentials (timed copies make the calls)
        self.max_body = max_body
        # Lamb's IAM: whether a role exists and trusts API Gateway (None: an upstream STS decides).
        self.may_assume = may_assume
        # Lamb's IAM: why the role's identity policies refuse an action on a resource, or None (None: not
        # evaluated).
        self.refusal = refusal
        self._endpoint = endpoint
        self._own_credentials = own_credentials
        self._own: Any = None
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="lamb-aws-integration", initializer=release_thread)
        self._raw = threading.local()
        self._lock = threading.Lock()
        self._by_timeout: dict[float, Any] = {}
        self._models: dict[str, Any] = {}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def model(self, service: str) -> Any:
        found = self._models.get(service)
        if found is None:
            import botocore.session

            found = self._models[service] = botocore.session.get_session().get_service_model(service)
        return found

    def _role_ok(self, role: str | None) -> None:
        if not role:
            raise Refused("no credentials")
        if not self.clients.acts_as(role) and self.may_assume is not None and not self.may_assume(role):
            raise Refused(f"API Gateway cannot assume {role}")

    # HTTP APIs
    def subtype(self, subtype: str, values: Mapping[str, str], default_region: str, role: str | None,
                timeout_s: float) -> "asyncio.Future[Answer]":
        """The action of ``subtype`` with the mapped ``values``; its client's connect and read timeouts are the
        integration's, one attempt, so no thread is held much longer than the caller waits."""
        return _retrieved(asyncio.wrap_future(self._pool.submit(self._subtype, subtype, values, default_region, role,
                                                                timeout_s)))

    def _clients(self, timeout_s: float) -> Any:
        """Role clients whose calls give up with the integration's timeout (one set per timeout in use)."""
        found = self._by_timeout.get(timeout_s)
        if found is None:
            from ..services.role_clients import RoleClients

            with self._lock:
                found = self._by_timeout.get(timeout_s)
                if found is None:
                    found = self._by_timeout[timeout_s] = RoleClients(self.clients.credentials, config=dict(
                        connect_timeout=timeout_s, read_timeout=timeout_s,
                        retries={"max_attempts": 1, "mode": "standard"}))
        return found

    def _keep(self, http_response: Any = None, **_: Any) -> None:
        self._raw.answer = http_response

    def _subtype(self, subtype: str, values: Mapping[str, str], default_region: str, role: str | None,
                 timeout_s: float) -> Answer:
        from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

        self._role_ok(role)
        sub = SUBTYPES[subtype]
        model = self.model(sub.service)
        args, region = call_arguments(subtype, values, model)
        if self.refusal is not None and not self.clients.acts_as(role):
            account = (role or "").split(":")[4] if (role or "").count(":") >= 5 else ""
            why = self.refusal(role, f"{_signing_name(model)}:{sub.operation}",
                               resource_of(subtype, args, region or default_region, account))
            if why is not None:
                return access_denied(sub.service, why, str(uuid.uuid4()))
        try:
            client = self._clients(timeout_s).client(sub.service, region or default_region, role or None, SESSION)
        except Exception as e:  # noqa: BLE001 - the role cannot be assumed (upstream STS refused)
            raise Refused(f"{type(e).__name__}: {e}") from None
        client.meta.events.register("after-call", self._keep, unique_id="lamb-aws-integration-raw")
        self._raw.answer = None
        from botocore import xform_name

        try:
            getattr(client, xform_name(sub.operation))(**args)
        except ParamValidationError as e:
            raise BadParameters(str(e)) from None
        except ClientError:
            pass  # the service's refusal: relayed below
        except BotoCoreError as e:
            raise Refused(f"{type(e).__name__}: {e}") from None
        raw = self._raw.answer
        if raw is None:
            raise Refused("no answer")
        headers = {k.lower(): v for k, v in raw.headers.items()}
        body = raw.content
        if sub.service == "sqs":
            body = sqs_query_json(sub.operation, raw.status_code, headers, body, model)
        return Answer(raw.status_code, [("Content-Type", "application/json")], body)

    # REST APIs
    def rest(self, target: Target, method: str, path_values: Mapping[str, str], query: Mapping[str, str],
             headers: Mapping[str, str], body: bytes, role: str | None, timeout_s: float) -> "asyncio.Future[Answer]":
        return _retrieved(asyncio.wrap_future(self._pool.submit(self._rest, target, method, path_values, query,
                                                                headers, body, role, timeout_s)))

    def _credentials(self, role: str) -> Any:
        from botocore.credentials import Credentials

        if self.clients.acts_as(role):
            try:
                env = self.clients.credentials(role, SESSION)
            except Exception as e:  # noqa: BLE001 - the upstream STS refused
                raise Refused(f"{type(e).__name__}: {e}") from None
            if env:
                return Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env.get("AWS_SESSION_TOKEN"))
        if self._own is None and self._own_credentials is not None:
            self._own = self._own_credentials()  # refreshable by itself: kept
        creds = self._own
        if creds is None:
            raise Refused("no credentials in Lamb's configuration")
        return creds

    def _rest(self, target: Target, method: str, path_values: Mapping[str, str], query: Mapping[str, str],
              headers: Mapping[str, str], body: bytes, role: str | None, timeout_s: float) -> Answer:
        from botocore.auth import S3SigV4Auth, SigV4Auth
        from botocore.awsrequest import AWSRequest

        self._role_ok(role)
        try:
            model = self.model(target.service)
            method, path, hdrs, body = rest_request(target, model, method, path_values, query, headers, body)
        except Exception as e:  # noqa: BLE001 - an unknown service or action
            raise Refused(f"{type(e).__name__}: {e}") from None
        if self.refusal is not None and role and not self.clients.acts_as(role):
            wanted = rest_permission(target, model, method, path, body, role.split(":")[4])
            why = self.refusal(role, *wanted) if wanted is not None else None
            if why is not None:
                return rest_access_denied(target, model, why, str(uuid.uuid4()))
        base = (self._endpoint or _endpoint_url)(target.service, target.region).rstrip("/")
        url = base + path
        request = AWSRequest(method=method, url=url, data=body, headers=hdrs)
        signing = _signing_name(model)
        auth = S3SigV4Auth if target.service == "s3" else SigV4Auth
        auth(self._credentials(role or ""), signing, target.region).add_auth(request)
        out = http_proxy.Outgoing(method, url, list(request.headers.items()), body)
        try:
            answer = http_proxy.send(out, timeout_s, self.max_body)
        except http_proxy.Unreachable as e:
            raise Refused(str(e)) from None
        return Answer(answer.status, answer.headers, answer.body)


def _retrieved(pending: "asyncio.Future") -> "asyncio.Future":
    """``pending``, its exception marked as seen: the caller may have answered at its timeout already."""
    pending.add_done_callback(lambda f: f.cancelled() or f.exception())
    return pending


def _signing_name(model: Any) -> str:
    """The service's SigV4 name, also its IAM actions' prefix (``states`` for Step Functions)."""
    return model.metadata.get("signingName") or model.metadata["endpointPrefix"]


def _endpoint_url(service: str, region: str) -> str:
    from ..services.aws_clients import endpoint_url

    return endpoint_url(service, region)


def own_credentials() -> Any:
    """Lamb's own credentials (boto3's chain), or None."""
    import boto3

    return boto3.session.Session().get_credentials()
