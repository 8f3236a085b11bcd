"""The model-driven protocols: route, parse + validate, serialize, serialize errors.

One ``Protocol`` per served botocore model. REST-JSON (lambda, scheduler) routes by
method and URI template; the ``json`` protocol (events, logs) by ``X-Amz-Target``
(``_json_rpc``). Parsing, validation and serialization plans are the same for both.
The ``query`` protocol (iam, sts) routes by the form's ``Action`` and answers XML (``_query``).
Smithy RPC v2 CBOR (cloudwatch) routes by path and reads and writes CBOR (``_rpcv2_cbor``).
A model that offers several protocols (cloudwatch: CBOR, json, query) is served once per
protocol: ``Protocol(service, wire=...)``.
"""

from __future__ import annotations

import functools

import json
from typing import Any

import botocore.loaders
import botocore.model

from ._input import BodyConverters, InputPlan, build_input_plan, parse_request, validated
from ._validate import Validators
from ._output import JSON_CONTENT_TYPE, OutputPlan, _Serializers, build_output_plan, header_text, serialize_result
from ._router import Router
from . import _json_rpc
from ._query import QueryWire
from .aws_differences import VALIDATION_CODE
from ._rpcv2_cbor import CborWire
from .errors import GENERIC_STATUS, AwsError

Response = tuple[int, list[tuple[str, str]], bytes]

_dumps = json.JSONEncoder(separators=(",", ":"), default=str).encode


class _ErrorPlan:
    __slots__ = ("status", "message_key", "header_fields", "body_fields")

    def __init__(self, shape: botocore.model.Shape, sers: _Serializers) -> None:
        self.status: int | None = shape.metadata.get("error", {}).get("httpStatusCode")
        members = shape.members
        # Lambda's shapes spell it "Message" or "message"; the body uses the shape's spelling
        # so that botocore's modeled-error parse fills the field too.
        self.message_key = "message" if "message" in members or "Message" not in members else "Message"
        self.header_fields: dict[str, tuple[str, Any]] = {}
        self.body_fields: dict[str, tuple[str, Any]] = {}
        for name, member in members.items():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "header":
                self.header_fields[name] = (wire, header_text(member))
            elif location is None:
                self.body_fields[name] = (wire, sers.for_shape(member))


def _clean_header(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if "\r" in text or "\n" in text:
        text = text.replace("\r", " ").replace("\n", " ")
    return text


#: The wire protocols this layer speaks, in order of preference when a model lists several.
SPOKEN = ("rest-json", "json", "query", "smithy-rpc-v2-cbor")


def wire_protocol(metadata: dict) -> str:
    """The model's protocol: the first of ``metadata.protocols`` (newer models; older ones
    only have ``protocol``) this layer speaks."""
    offered = metadata.get("protocols") or [metadata.get("protocol")]
    for name in offered:
        if name in SPOKEN:
            return name
    raise ValueError(f"no supported protocol among {offered}")


@functools.lru_cache(maxsize=None)
def _loader() -> botocore.loaders.Loader:
    """One botocore loader for every model: each loader lists botocore's data folders again."""
    return botocore.loaders.Loader()


class Protocol:
    """Everything about the wire format of one AWS service, from botocore's model."""

    def __init__(self, service_name: str = "lambda", wire: str | None = None) -> None:
        model = _loader().load_service_model(service_name, "service-2")
        self.service_model = botocore.model.ServiceModel(model, service_name)
        meta = self.service_model.metadata
        self.wire = wire or wire_protocol(meta)
        # The name in a SigV4 credential scope (…/<region>/<service>/aws4_request).
        self.signing_name: str = meta.get("signingName") or meta["endpointPrefix"]
        self.target_prefix: str | None = meta.get("targetPrefix") if self.wire == "json" else None
        self._json_type = _json_rpc.content_type(meta.get("jsonVersion")) if self.wire == "json" else None
        self._validation_code = VALIDATION_CODE.get(service_name)
        ops = [self.service_model.operation_model(name) for name in self.service_model.operation_names]
        self.operations: dict[str, botocore.model.OperationModel] = {op.name: op for op in ops}
        self._router = Router(ops) if self.wire == "rest-json" else None
        self._targets = _json_rpc.TargetRouter(ops, self.target_prefix) if self.target_prefix else None
        self._query = QueryWire(self.service_model) if self.wire == "query" else None
        self._cbor = CborWire(self.service_model) if self.wire == "smithy-rpc-v2-cbor" else None
        # awsQueryCompatible (cloudwatch): json errors also name the query protocol's error code
        self._query_compatible = "awsQueryCompatible" in meta

        convs = BodyConverters()
        validators = Validators()
        sers = _Serializers()
        self._inputs: dict[str, InputPlan] = {}
        self._outputs: dict[str, OutputPlan] = {}
        for op in ops if self._query is None else ():
            self._inputs[op.name] = build_input_plan(op.input_shape, convs, validators)
            self._outputs[op.name] = build_output_plan(op.output_shape, op.http.get("responseCode", 200), sers)
        self._errors: dict[str, _ErrorPlan] = {}
        for shape in self.service_model.error_shapes:
            code = shape.metadata.get("error", {}).get("code", shape.name)
            self._errors[code] = _ErrorPlan(shape, sers)
            self._errors.setdefault(shape.name, self._errors[code])

    # ------------------------------------------------------------------ routing
    def route(self, method: str, path: str, query: str = "", headers: dict[str, str] | None = None,
              body: bytes = b"") -> tuple[botocore.model.OperationModel, dict[str, str]]:
        """Find the operation for a request (``headers``, lower-cased names: the json protocol's
        ``x-amz-target``).

        ``path`` is the raw (percent-encoded) path; if it still carries a ``?query``
        that is used too. ``query`` (optional) is the raw query string: it is needed
        only to tell apart operations whose ``requestUri`` has a query literal
        (GetLayerVersionByArn ``?find=LayerVersion`` vs ListLayers,
        ListProvisionedConcurrencyConfigs ``?List=ALL`` vs GetProvisionedConcurrencyConfig).
        Returns the operation and its URI labels, percent-decoded.
        Raises ``AwsError('UnknownOperationException', 404)`` when nothing matches.
        The query protocol reads the operation from the form (``body``) and returns the
        whole form as the labels.
        """
        if self._query is not None:
            form = self._query.form(method, query, headers, body)
            return self._query.route(method, path, form), form
        if self._targets is not None:
            return self._targets.route(method, path, headers)
        if self._cbor is not None:
            return self._cbor.route(method, path), {}
        return self._router.route(method, path, query)  # type: ignore[union-attr]

    # ------------------------------------------------------------------ requests
    def parse(
        self,
        op: botocore.model.OperationModel | str,
        labels: dict[str, str],
        query: str,
        headers: dict[str, str],
        body: bytes,
    ) -> dict[str, Any]:
        """Read and validate the input parameters of ``op`` from the request parts."""
        if self._query is not None:
            return self._query.parse(self.operations[op] if type(op) is str else op, labels)
        plan = self._inputs[op if type(op) is str else op.name]  # type: ignore[union-attr]
        if self._cbor is not None:
            return validated(plan, self._cbor.decode(self.operations[op] if type(op) is str else op, body))
        if self._json_type is None:
            return parse_request(plan, labels, query, headers, body)
        try:
            return parse_request(plan, labels, query, headers, body)
        except AwsError as err:
            if err.code == "InvalidRequestContentException":
                raise _json_rpc.serialization_error(err) from None
            if err.code == "ValidationException" and self._validation_code:
                raise AwsError(self._validation_code, err.message, 400) from None
            raise

    # ------------------------------------------------------------------ responses
    def serialize(self, op: botocore.model.OperationModel | str, result: dict[str, Any]) -> Response:
        """Turn an output-shaped dict into (status, headers, body)."""
        if self._query is not None:
            return self._query.serialize(self.operations[op] if type(op) is str else op, result)
        if self._cbor is not None:
            return self._cbor.encode(self.operations[op] if type(op) is str else op, result)
        plan = self._outputs[op if type(op) is str else op.name]  # type: ignore[union-attr]
        status, headers, body = serialize_result(plan, result if result is not None else {})
        if self._json_type is not None:
            headers = [h for h in headers if h is not JSON_CONTENT_TYPE] + [self._json_type]
            body = body or b"{}"
        return status, headers, body

    def serialize_error(self, err: AwsError) -> Response:
        """AWS's REST-JSON error response for ``err``. Never raises."""
        try:
            return self._serialize_error(err)
        except Exception:  # noqa: BLE001 - the error path must always answer
            try:
                code = _clean_header(getattr(err, "code", "InternalFailure") or "InternalFailure")
                message = str(getattr(err, "message", "") or "")
            except Exception:  # noqa: BLE001
                code, message = "InternalFailure", ""
            body = _dumps({"Type": "Service", "message": message}).encode("utf-8")
            return 500, [("x-amzn-ErrorType", code), JSON_CONTENT_TYPE], body

    def _serialize_error(self, err: AwsError) -> Response:
        code = err.code
        plan = self._errors.get(code)
        status = err.status
        if status is None:
            if plan is not None and plan.status is not None:
                status = plan.status
            else:
                status = GENERIC_STATUS.get(code, 400)
        if self._query is not None:
            return self._query.serialize_error(err, int(status))
        if self._cbor is not None:
            return self._cbor.encode_error(err, int(status))
        headers = [("x-amzn-ErrorType", _clean_header(code)), self._json_type or JSON_CONTENT_TYPE]
        body: dict[str, Any] = {"Type": err.type, (plan.message_key if plan else "message"): err.message}
        if self._json_type is not None:
            body = _json_rpc.error_body(err, plan.message_key if plan else "message", {})
            if self._query_compatible:
                headers.append(_json_rpc.query_error_header(err, int(status)))
        for name, value in (err.fields or {}).items():
            if value is None:
                continue
            if plan is not None:
                hdr = plan.header_fields.get(name)
                if hdr is not None:
                    headers.append((hdr[0], _clean_header(hdr[1](value))))
                    continue
                field = plan.body_fields.get(name)
                if field is not None:
                    key, conv = field
                    body[key] = value if conv is None else conv(value)
                    continue
            body[name] = value
        for name, value in (err.headers or {}).items():
            headers.append((_clean_header(name), _clean_header(value)))
        return int(status), headers, _dumps(body).encode("utf-8")
