"""OpenAPI definitions with API Gateway's extensions, read into what the management APIs create.

ImportRestApi/PutRestApi (Swagger 2.0 or OpenAPI 3.x) and ImportApi/ReimportApi (OpenAPI 3.x;
Swagger 2.0 too) read a definition's paths and operations and API Gateway's extensions
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions.html):

- ``x-amazon-apigateway-integration``: ``type`` (``aws_proxy``, case-insensitive), ``httpMethod``,
  ``uri``, ``payloadFormatVersion`` (HTTP APIs; 1.0 when absent), ``timeoutInMillis``, and for REST
  APIs ``cacheKeyParameters`` and ``cacheNamespace`` (the stage cache's key); ``integrationSubtype`` with
  ``credentials`` and ``requestParameters`` (HTTP APIs' AWS service integrations, no ``uri``), and REST
  ``aws`` integrations to another service's ``action/``/``path/`` URI with ``requestParameters``;
- ``x-amazon-apigateway-any-method``: the ``ANY`` method; a ``$default`` path: the ``$default`` route;
- security schemes with ``x-amazon-apigateway-authorizer`` (``token``/``request`` Lambda
  authorizers; ``jwt`` and ``request`` for HTTP APIs), chosen by an operation's ``security``
  (or the definition's top-level ``security``); REST APIs also read ``x-amazon-apigateway-authtype``;
- ``x-amazon-apigateway-cors`` (HTTP APIs) and ``x-amazon-apigateway-binary-media-types`` (REST APIs);
- REST APIs: an ``apiKey`` security scheme named ``x-api-key`` in an operation's security makes the method
  ``apiKeyRequired``, and ``x-amazon-apigateway-api-key-source`` is the API's ``apiKeySource``;
  ``x-amazon-apigateway-policy`` is a REST API's resource ``policy``.

Only what Lamb serves is accepted: ``aws_proxy`` (and, for REST APIs, ``mock`` with its
``responses``: SAM's CORS preflights); an integration of another type is an import error (AWS
would import it; Lamb refuses rather than store what it cannot serve). Pure: no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

VERBS = ("get", "put", "post", "delete", "options", "head", "patch")
ANY_EXT = "x-amazon-apigateway-any-method"
INTEGRATION = "x-amazon-apigateway-integration"
AUTHORIZER = "x-amazon-apigateway-authorizer"


class ImportProblem(ValueError):
    """The definition cannot be imported (the API answers BadRequestException)."""


def load(body: str | bytes) -> dict:
    """A definition in JSON or YAML."""
    text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
    try:
        doc = json.loads(text)
    except ValueError:
        import yaml

        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ImportProblem(f"Invalid OpenAPI input: {str(e).splitlines()[0]}") from None
    if not isinstance(doc, dict) or not ("swagger" in doc or "openapi" in doc):
        raise ImportProblem("Invalid OpenAPI input: the definition names neither 'swagger' nor 'openapi'.")
    return doc


@dataclass
class Operation:
    path: str
    method: str                      # GET, POST, ..., ANY
    integration: dict                # the x-amazon-apigateway-integration object
    security: tuple[str, list] | None = None  # (scheme name, scopes)
    operation_name: str | None = None
    responses: dict = field(default_factory=dict)  # the operation's responses (method responses of REST APIs)
    validator: str | None = None     # x-amazon-apigateway-request-validator (REST APIs)
    request_parameters: dict = field(default_factory=dict)  # method.request.<where>.<name> → required
    request_models: dict = field(default_factory=dict)      # content type → model name
    iam: bool = False  # AWS_IAM authorization (a SigV4 security scheme or x-amazon-apigateway-auth)
    api_key: bool = False  # apiKeyRequired: an apiKey security scheme named x-api-key (REST APIs)


@dataclass
class Definition:
    title: str
    description: str | None
    operations: list[Operation]
    schemes: dict[str, dict]         # security scheme name → the scheme (with its authorizer extension)
    cors: dict | None = None
    binary_media_types: list[str] = field(default_factory=list)
    models: dict[str, dict] = field(default_factory=dict)  # REST APIs: definitions / components.schemas
    validators: dict[str, dict] = field(default_factory=dict)  # x-amazon-apigateway-request-validators
    gateway_responses: dict[str, dict] = field(default_factory=dict)  # x-amazon-apigateway-gateway-responses
    api_key_source: str | None = None  # x-amazon-apigateway-api-key-source (HEADER or AUTHORIZER)
    policy: str | None = None  # x-amazon-apigateway-policy (REST APIs' resource policy), as JSON text


def _schemes(doc: dict) -> dict[str, dict]:
    found = dict(doc.get("securityDefinitions") or {})
    found.update((doc.get("components") or {}).get("securitySchemes") or {})
    return {name: s for name, s in found.items() if isinstance(s, dict) and AUTHORIZER in s}


def _sigv4_schemes(doc: dict) -> set[str]:
    """Security schemes that mean AWS_IAM (``x-amazon-apigateway-authtype: awsSigv4``, as SAM writes them)."""
    found = dict(doc.get("securityDefinitions") or {})
    found.update((doc.get("components") or {}).get("securitySchemes") or {})
    return {name for name, s in found.items() if isinstance(s, dict) and AUTHORIZER not in s
            and str(s.get("x-amazon-apigateway-authtype", "")).lower() == "awssigv4"}


def _api_key_schemes(doc: dict) -> set[str]:
    """Security schemes that mean apiKeyRequired: ``type: apiKey``, ``name: x-api-key``, in the header
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-key-source.html)."""
    found = dict(doc.get("securityDefinitions") or {})
    found.update((doc.get("components") or {}).get("securitySchemes") or {})
    return {name for name, s in found.items() if isinstance(s, dict) and AUTHORIZER not in s
            and s.get("type") == "apiKey" and str(s.get("name", "")).lower() == "x-api-key"
            and s.get("in", "header") == "header"}


def _iam(op: dict, entry: Any, sigv4: set[str]) -> bool:
    auth = op.get("x-amazon-apigateway-auth")
    if isinstance(auth, dict) and str(auth.get("type", "")).upper() == "AWS_IAM":
        return True
    return any(name in sigv4 for requirement in entry or [] for name in (requirement or {}))


def _security(entry: Any, schemes: dict) -> tuple[str, list] | None:
    for requirement in entry or []:
        for name, scopes in (requirement or {}).items():
            if name in schemes:
                return name, list(scopes or [])
    return None


_WHERE = {"query": "querystring", "header": "header", "path": "path"}
_SCHEMA_REFS = ("#/definitions/", "#/components/schemas/")


def _model_name(schema: Any, path: str, verb: str, models: dict) -> str | None:
    """The model a request body's schema names (``$ref``), or a model made for an inline schema."""
    if not isinstance(schema, dict):
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str):
        for prefix in _SCHEMA_REFS:
            if ref.startswith(prefix):
                return ref[len(prefix):]
        return None
    name = "".join(c for c in verb.title() + path.title() if c.isalnum()) + "Body"
    models[name] = schema
    return name


def _method_request(doc: dict, item: dict, op: dict, path: str, verb: str, models: dict) -> tuple[dict, dict]:
    """(requestParameters, requestModels) of an operation: its and its path's parameters, its body."""
    parameters, request_models = {}, {}
    for p in list(item.get("parameters") or []) + list(op.get("parameters") or []):
        if not isinstance(p, dict):
            continue
        if p.get("in") in _WHERE and p.get("name"):
            parameters[f"method.request.{_WHERE[p['in']]}.{p['name']}"] = bool(p.get("required"))
        elif p.get("in") == "body":  # Swagger 2.0
            name = _model_name(p.get("schema"), path, verb, models)
            for media in op.get("consumes") or doc.get("consumes") or ["application/json"]:
                if name:
                    request_models[media] = name
    for media, spec in (((op.get("requestBody") or {}).get("content")) or {}).items():  # OpenAPI 3
        name = _model_name((spec or {}).get("schema"), path, verb, models)
        if name:
            request_models[media] = name
    return parameters, request_models


def rest_model_schema(schema: Any, api_id: str) -> Any:
    """A definition's schema as an API Gateway model: local ``$ref``s become model URLs, draft 4 named."""
    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {k: walk(v) for k, v in value.items()}
        ref = out.get("$ref")
        for prefix in _SCHEMA_REFS:
            if isinstance(ref, str) and ref.startswith(prefix):
                out["$ref"] = f"https://apigateway.amazonaws.com/restapis/{api_id}/models/{ref[len(prefix):]}"
        return out

    out = walk(schema)
    if isinstance(out, dict):
        out.setdefault("$schema", "http://json-schema.org/draft-04/schema#")
    return out


def read(doc: dict) -> Definition:
    """The definition's operations, in document order; paths without an integration are errors."""
    info = doc.get("info") or {}
    schemes = _schemes(doc)
    sigv4 = _sigv4_schemes(doc)
    key_schemes = _api_key_schemes(doc)
    default_security = doc.get("security")
    default_validator = doc.get("x-amazon-apigateway-request-validator")
    models = dict((doc.get("definitions") or {}))
    models.update((doc.get("components") or {}).get("schemas") or {})
    ops: list[Operation] = []
    errors: list[str] = []
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        if path != "$default" and not path.startswith("/"):
            errors.append(f"Invalid path '{path}': paths must begin with '/'.")
            continue
        for key, op in item.items():
            verb = "ANY" if key == ANY_EXT else key.upper() if key in VERBS else None
            if verb is None or not isinstance(op, dict):
                continue
            integration = op.get(INTEGRATION)
            if integration is None:
                errors.append(f"No integration defined for method '{verb}' at path '{path}'.")
                continue
            entry = op["security"] if "security" in op else default_security
            security = _security(entry, schemes)
            parameters, request_models = _method_request(doc, item, op, path, verb, models)
            ops.append(Operation(path, verb, integration, security, op.get("operationId"), op.get("responses") or {},
                                 op.get("x-amazon-apigateway-request-validator", default_validator), parameters,
                                 request_models, iam=security is None and _iam(op, entry, sigv4),
                                 api_key=any(name in key_schemes for r in entry or [] for name in (r or {}))))
    if errors:
        raise ImportProblem("Errors found during import:\n\t" + "\n\t".join(errors))
    validators = doc.get("x-amazon-apigateway-request-validators") or {}
    for op in ops:
        if op.validator is not None and op.validator not in validators:
            errors.append(f"Invalid request validator '{op.validator}' for method '{op.method}' at path '{op.path}'.")
    if errors:
        raise ImportProblem("Errors found during import:\n\t" + "\n\t".join(errors))
    return Definition(str(info.get("title") or "imported-api"), info.get("description"), ops, schemes,
                      doc.get("x-amazon-apigateway-cors"), list(doc.get("x-amazon-apigateway-binary-media-types") or []),
                      models, dict(validators), dict(doc.get("x-amazon-apigateway-gateway-responses") or {}),
                      _key_source(doc.get("x-amazon-apigateway-api-key-source")),
                      _policy(doc.get("x-amazon-apigateway-policy")))


def _policy(value: Any) -> str | None:
    """``x-amazon-apigateway-policy``: a policy document (SAM's ``Auth.ResourcePolicy`` writes one), kept as the
    API's ``policy`` text."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ImportProblem("Errors found during import:\n\tInvalid x-amazon-apigateway-policy: a policy document "
                            "object is expected.")
    return json.dumps(value)


def _key_source(value: Any) -> str | None:
    if value is None:
        return None
    if str(value).upper() not in ("HEADER", "AUTHORIZER"):
        raise ImportProblem(f"Errors found during import:\n\tInvalid API key source '{value}': use HEADER or AUTHORIZER.")
    return str(value).upper()


def _proxy(op: Operation, kinds: tuple[str, ...] = ("AWS_PROXY",)) -> dict:
    integ = op.integration
    kind = str(integ.get("type", "")).upper()
    if kind not in kinds:
        served = " or ".join(k.lower() for k in kinds)
        raise ImportProblem(f"Errors found during import:\n\tUnable to put integration on '{op.method}' for resource "
                            f"at path '{op.path}': integration type '{integ.get('type')}' is not served by this Lamb "
                            f"server; use {served}.")
    if not integ.get("uri"):
        raise ImportProblem(f"Errors found during import:\n\tUnable to put integration on '{op.method}' for resource "
                            f"at path '{op.path}': Invalid integration URI specified")
    return integ


# ------------------------------------------------------------------ HTTP APIs (apigatewayv2)
_CORS = {"allowOrigins": "AllowOrigins", "allowMethods": "AllowMethods", "allowHeaders": "AllowHeaders",
         "exposeHeaders": "ExposeHeaders", "maxAge": "MaxAge", "allowCredentials": "AllowCredentials"}


def http_cors(cors: dict | None) -> dict | None:
    if not cors:
        return None
    return {_CORS[k]: v for k, v in cors.items() if k in _CORS}


def _sources(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [s.strip() for s in str(value or "").split(",") if s.strip()]


def http_authorizer(name: str, scheme: dict) -> dict:
    """CreateAuthorizer's parameters (apigatewayv2) for a security scheme."""
    ext = scheme[AUTHORIZER]
    kind = str(ext.get("type", "")).lower()
    if kind == "jwt":
        jwt = ext.get("jwtConfiguration") or {}
        out: dict = {"Name": name, "AuthorizerType": "JWT", "IdentitySource": _sources(ext.get("identitySource")),
                     "JwtConfiguration": {"Issuer": jwt.get("issuer"), "Audience": list(jwt.get("audience") or [])}}
        return out
    if kind == "request":
        out = {"Name": name, "AuthorizerType": "REQUEST", "AuthorizerUri": ext.get("authorizerUri"),
               "AuthorizerPayloadFormatVersion": ext.get("authorizerPayloadFormatVersion"),
               "IdentitySource": _sources(ext.get("identitySource"))}
        if ext.get("authorizerResultTtlInSeconds") is not None:
            out["AuthorizerResultTtlInSeconds"] = int(ext["authorizerResultTtlInSeconds"])
        if ext.get("enableSimpleResponses") is not None:
            out["EnableSimpleResponses"] = bool(ext["enableSimpleResponses"])
        if ext.get("authorizerCredentials"):
            out["AuthorizerCredentialsArn"] = ext["authorizerCredentials"]
        return out
    raise ImportProblem(f"Errors found during import:\n\tUnable to create authorizer '{name}': authorizer type "
                        f"'{ext.get('type')}' is not supported for HTTP APIs.")


def http_route_key(op: Operation) -> str:
    return "$default" if op.path == "$default" else f"{op.method} {op.path}"


def http_integration(op: Operation) -> dict:
    """CreateIntegration's parameters for an operation's integration."""
    if op.integration.get("integrationSubtype"):  # an AWS service integration (apis/aws_services.py): no URI
        integ = op.integration
        out = {"IntegrationType": str(integ.get("type") or "").upper(),
               "IntegrationSubtype": integ["integrationSubtype"],
               "PayloadFormatVersion": str(integ.get("payloadFormatVersion") or "1.0")}
        return _http_integration_rest(integ, out)
    integ = _proxy(op, ("AWS_PROXY", "HTTP_PROXY"))
    if str(integ["type"]).upper() == "HTTP_PROXY":  # forwarded to the URI (apis/http_proxy.py)
        out = {"IntegrationType": "HTTP_PROXY", "IntegrationUri": integ["uri"],
               "IntegrationMethod": str(integ.get("httpMethod") or "").upper() or None,
               "PayloadFormatVersion": str(integ.get("payloadFormatVersion") or "1.0")}
    else:
        out = {"IntegrationType": "AWS_PROXY", "IntegrationUri": integ["uri"], "IntegrationMethod": "POST",
               "PayloadFormatVersion": str(integ.get("payloadFormatVersion") or "1.0")}
    return _http_integration_rest(integ, out)


def _http_integration_rest(integ: dict, out: dict) -> dict:
    """The members every kind of HTTP API integration takes: mappings, timeout, role."""
    for k, member in (("requestParameters", "RequestParameters"), ("responseParameters", "ResponseParameters")):
        if integ.get(k):  # parameter mapping of either proxy (apis/http_proxy.py)
            out[member] = integ[k]
    if integ.get("timeoutInMillis") is not None:
        out["TimeoutInMillis"] = int(integ["timeoutInMillis"])
    if integ.get("credentials"):
        out["CredentialsArn"] = integ["credentials"]
    return out


# ------------------------------------------------------------------ REST APIs (apigateway)
def rest_authorizer(name: str, scheme: dict) -> dict:
    """CreateAuthorizer's parameters (apigateway) for a security definition."""
    ext = scheme[AUTHORIZER]
    kind = str(ext.get("type", "")).upper()
    if kind == "COGNITO_USER_POOLS":
        out = {"name": name, "type": kind, "providerARNs": list(ext.get("providerARNs") or []),
               "authType": scheme.get("x-amazon-apigateway-authtype") or "cognito_user_pools",
               "identitySource": ext.get("identitySource") or f"method.request.header.{scheme.get('name') or 'Authorization'}"}
        if ext.get("authorizerResultTtlInSeconds") is not None:
            out["authorizerResultTtlInSeconds"] = int(ext["authorizerResultTtlInSeconds"])
        return out
    if kind not in ("TOKEN", "REQUEST"):
        raise ImportProblem(f"Errors found during import:\n\tUnable to create authorizer '{name}': authorizer type "
                            f"'{ext.get('type')}' is not served by this Lamb server; use token, request or "
                            f"cognito_user_pools.")
    out: dict = {"name": name, "type": kind, "authorizerUri": ext.get("authorizerUri"),
                 "authType": scheme.get("x-amazon-apigateway-authtype") or "custom"}
    source = ext.get("identitySource")
    if source is None and kind == "TOKEN" and scheme.get("in") == "header" and scheme.get("name"):
        source = f"method.request.header.{scheme['name']}"
    if source is not None:
        out["identitySource"] = source
    if ext.get("authorizerResultTtlInSeconds") is not None:
        out["authorizerResultTtlInSeconds"] = int(ext["authorizerResultTtlInSeconds"])
    if ext.get("identityValidationExpression"):
        out["identityValidationExpression"] = ext["identityValidationExpression"]
    if ext.get("authorizerCredentials"):
        out["authorizerCredentials"] = ext["authorizerCredentials"]
    return out


def rest_responses(op: Operation) -> tuple[dict[str, dict], dict[str, dict]]:
    """(PutMethodResponse parameters by status code, PutIntegrationResponse parameters by status
    code) of a MOCK or non-proxy (``aws``) integration: the operation's ``responses`` (their ``headers`` become
    ``method.response.header.*`` parameters) and the integration's ``responses`` (keyed by
    selection pattern, ``default`` for none)."""
    method: dict[str, dict] = {}
    for code, spec in op.responses.items():
        if str(code).isdigit():
            headers = (spec or {}).get("headers") or {}
            method[str(code)] = {"responseParameters": {f"method.response.header.{h}": False for h in headers}}
    integration: dict[str, dict] = {}
    for pattern, spec in (op.integration.get("responses") or {}).items():
        code = str(spec.get("statusCode", "200"))
        out: dict = {k: spec[k] for k in ("responseParameters", "responseTemplates", "contentHandling") if spec.get(k)}
        if pattern != "default":
            out["selectionPattern"] = pattern
        integration[code] = out
        method.setdefault(code, {})
    return method, integration


def rest_integration(op: Operation) -> dict:
    """PutIntegration's parameters (without the API, resource and method)."""
    out = _rest_integration(op)
    for k in ("cacheKeyParameters", "cacheNamespace"):  # the stage cache's key (apis/api_cache.py)
        if op.integration.get(k):
            out[k] = op.integration[k]
    return out


def _rest_integration(op: Operation) -> dict:
    if str(op.integration.get("type", "")).upper() == "MOCK":
        out = {"type": "MOCK", "requestTemplates": op.integration.get("requestTemplates") or {}}
        if op.integration.get("contentHandling"):
            out["contentHandling"] = op.integration["contentHandling"]
        return out
    integ = _proxy(op, ("AWS_PROXY", "AWS", "HTTP_PROXY", "HTTP"))
    kind = str(integ["type"]).upper()
    out = {"type": kind, "uri": integ["uri"], "integrationHttpMethod": str(integ.get("httpMethod") or "")
           .upper() or None}
    # HTTP/HTTP_PROXY: {proxy}, headers, query strings (apis/http_proxy.py); AWS and AWS_PROXY: Lambda's
    # X-Amz-Invocation-Type (apis/mapped.py, apis/rest.py), other services' path, query and headers (apis/aws_services.py)
    if integ.get("requestParameters"):
        out["requestParameters"] = integ["requestParameters"]
    if kind in ("AWS", "HTTP"):  # mapping templates (apis/mapped.py)
        out["requestTemplates"] = integ.get("requestTemplates") or {}
        if integ.get("passthroughBehavior"):
            out["passthroughBehavior"] = str(integ["passthroughBehavior"]).upper()
    if integ.get("timeoutInMillis") is not None:
        out["timeoutInMillis"] = int(integ["timeoutInMillis"])
    if integ.get("contentHandling"):  # the request's conversion (apis/binary.py)
        out["contentHandling"] = integ["contentHandling"]
    if integ.get("credentials"):  # the role API Gateway invokes as (apis/credentials.py)
        out["credentials"] = integ["credentials"]
    return out


def path_parts(path: str) -> list[str]:
    """``/a/{b}/{proxy+}`` → ``["a", "{b}", "{proxy+}"]``."""
    return [p for p in path.split("/") if p]
