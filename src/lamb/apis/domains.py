"""API Gateway custom domain names and their API mappings, shared by the REST (v1) and HTTP (v2) APIs.

One record per domain name (``apigateway_domains``, written through to SQLite): the domain and its
mappings. As on AWS, a domain made through either API is seen by both: v1 calls the mappings base path
mappings (``(none)`` for the empty key), v2 API mappings
(https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-custom-domains.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mappings.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mappings.html).

Serving: a request whose ``Host`` (port ignored) is a domain name, or a wildcard domain name
``*.example.com`` covering it, or whose path is ``/_lamb/domains/<domain>/<path>``, goes to the mapping
with the longest key that is a whole-segment prefix of its path (the empty key last); the key is
stripped from the path the API routes on, and the event's path keeps it as AWS's does. No mapping:
403 ``{"message":"Forbidden"}``. Over TLS (``lamb serve --https-port``, ``http/tls.py``) the domain's
certificate is chosen by SNI; a domain with mutual TLS (``mutual_tls.py``) is served only to a connection
whose client certificate its truststore verified (403 otherwise), and its requests carry ``clientCert``.

Routing rules (``routing_rules.py``): a domain whose ``routingMode`` is not ``API_MAPPING_ONLY`` keeps
``routingMode`` in its record and its rules under ``rules``; a request is matched against the rules by
priority first, then (``ROUTING_RULE_THEN_API_MAPPING``) against the mappings. A domain without a
``routingMode`` key costs what it did before rules existed (one more dict lookup).

Private domain names (``private_domains.py``) are stored under ``<name>+<domainNameId>``, so a ``Host``
lookup never finds them: they are served only to a request naming a VPC endpoint (``x-lamb-vpce-id``)
that has an access association with the domain, when the domain's policy allows it.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import TYPE_CHECKING, Callable, NamedTuple

from ..http.server import Request, Response
from ..limits import Limits
from ..protocol.errors import AwsError
from . import mutual_tls, private_domains, routing_rules
from .store import new_id

if TYPE_CHECKING:
    from .store import HttpApiStore

PATH_PREFIX = "/_lamb/domains/"
_KEY = re.compile(r"^[A-Za-z0-9$\-_.+!*'()]+(/[A-Za-z0-9$\-_.+!*'()]+)*$")
_NAME = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{1,63}$")
CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:(acm|iam):[a-z0-9-]*:\d{12}:(certificate|server-certificate)/.+$")
EDGE_ZONE = "Z2FDTNDATAQYW2"  # CloudFront's hosted zone, the alias target zone of every edge name


class Via(NamedTuple):
    """How a request reached its API through a custom domain."""

    domain: str  # the Host the client named (requestContext.domainName)
    prefix: str  # its first label (requestContext.domainPrefix)
    full_path: str  # the path as the client sent it, the mapping key included
    key: str = ""  # the API mapping's key the path matched ($context.customDomain.basePathMatched)
    client_cert: dict | None = None  # mutual TLS: the verified client certificate (mutual_tls.client_cert)
    rule_id: str = ""  # the routing rule the request matched ($context.customDomain.routingRuleIdMatched)


class Routed(NamedTuple):
    api_id: str | None  # None: the domain exists but no mapping matches (403)
    stage: str | None  # None: a v1 mapping without a stage, the stage is the path's first segment
    path: str  # after the mapping key
    via: Via


def bad(message: str) -> AwsError:
    return AwsError("BadRequestException", message, 400)


def conflict(message: str) -> AwsError:
    return AwsError("ConflictException", message, 409)


def not_found(message: str) -> AwsError:
    return AwsError("NotFoundException", message, 404)


def forbidden(rid: str) -> Response:
    """API Gateway's answer for a custom domain path no mapping covers."""
    return Response(403, [("Content-Type", "application/json"), ("x-amzn-RequestId", rid),
                          ("x-amzn-ErrorType", "ForbiddenException")], b'{"message":"Forbidden"}')


def gateway_name(domain_id: str, region: str) -> str:
    """What Lamb answers as ``ApiGatewayDomainName``/``regionalDomainName``/``distributionDomainName``:
    ``d-<id>.execute-api.<region>.localhost``, which resolves to loopback as every ``*.localhost`` name
    does; a request to it with ``Host: <custom domain>`` (what a CNAME gives) is served as the domain's."""
    return f"{domain_id}.execute-api.{region}.localhost"


def hosted_zone(region: str, endpoint_type: str) -> str:
    """The alias target's hosted zone: CloudFront's for EDGE names; a stable Lamb id per region for
    REGIONAL ones (no Route 53 zone holds ``*.localhost``)."""
    if endpoint_type == "EDGE":
        return EDGE_ZONE
    return "Z" + hashlib.sha1(f"lamb-apigateway-{region}".encode()).hexdigest()[:13].upper()


def check_name(name: str) -> str:
    lowered = (name or "").lower().rstrip(".")
    if not _NAME.match(lowered) or len(lowered) > 253:
        raise bad(f"Invalid domain name identifier specified: {name}")
    return lowered


def check_key(key: str, multi_level: bool, max_chars: int = Limits.api_mapping_key_max_chars) -> str:
    """An API mapping key ("" or ``(none)``: the empty path); ``multi_level``: the domain allows ``a/b``."""
    if key in ("", "(none)", "/"):
        return ""
    if len(key) > max_chars or not _KEY.match(key):
        raise bad(f"Invalid API mapping key specified: {key}. A key may contain only letters, numbers and "
                  f"$-_.+!*'()/ without empty levels, at most {max_chars} characters.")
    if "/" in key and not multi_level:
        raise bad("Multi-level base path mappings are only supported for REGIONAL domain names with the "
                  "TLS_1_2 security policy.")
    return key


def multi_level(record: dict) -> bool:
    """Whether the domain takes multi-level keys (REGIONAL and PRIVATE names with the TLS 1.2 policy)."""
    return record["endpointType"] in ("REGIONAL", "PRIVATE") and record["securityPolicy"] == "TLS_1_2"


class Domains:
    """The custom domain names of one account and region (``store``: name -> record)."""

    def __init__(self, store: "HttpApiStore", region: str,
                 certificate_exists: Callable[[str], bool | None] | None = None, limits: Limits | None = None,
                 account_id: str = "000000000000") -> None:
        self.store = store
        self.region = region
        self.account_id = account_id
        self.limits = limits or Limits()
        # arn -> True/False when ACM was asked, None when no ACM is reachable (certificates.py)
        self.certificate_exists = certificate_exists or (lambda _arn: None)
        self.read_object: mutual_tls.ReadObject | None = None  # a truststore's S3 object (app.py)
        # name, certificate ARN -> the certificate written for the TLS port when ACM exports it (app.py)
        self.install_certificate: Callable[[str, str | None], object] | None = None
        self._wildcards = False  # whether a wildcard name (``*.example.com``) exists
        self._rules: dict[str, tuple] = {}  # domain name -> its compiled routing rules, by priority
        self._private: dict[str, list[str]] = {}  # a private domain's name -> its store keys
        store.listeners.append(self._changed)
        self._changed("")

    # ------------------------------------------------------------------ records
    def get(self, name: str) -> dict | None:
        return self.store.get((name or "").lower().rstrip("."))

    def record(self, name: str) -> dict:
        found = self.get(name)
        if found is None:
            raise not_found("Invalid domain name identifier specified")
        return found

    def names(self) -> list[str]:
        """The public domain names (a private one's key holds ``+``)."""
        return [k for k in self.store.ids() if "+" not in k]

    def keys(self) -> list[str]:
        """Every domain's store key, private ones' included."""
        return self.store.ids()

    def find(self, name: str, domain_name_id: str | None) -> dict:
        """The domain a call names: a private one by name and ``domainNameId``, else the public one (whose
        id, when given, must match)."""
        lowered = (name or "").lower().rstrip(".")
        if domain_name_id:
            found = self.store.get(private_domains.key(lowered, domain_name_id)) or self.get(lowered)
            if found is not None and found["id"] == domain_name_id:
                return found
            raise not_found("Invalid domain name identifier specified")
        return self.record(lowered)

    @staticmethod
    def private(record: dict) -> bool:
        return record["endpointType"] == "PRIVATE"

    def key_of(self, record: dict) -> str:
        return private_domains.key(record["domainName"], record["id"]) if self.private(record) else record["domainName"]

    def arn(self, name: str) -> str:
        return f"arn:aws:apigateway:{self.region}::/domainnames/{name}"

    def arn_of(self, record: dict) -> str:
        if self.private(record):
            return private_domains.arn(self.region, self.account_id, record["domainName"], record["id"])
        return self.arn(record["domainName"])

    def check_certificate(self, arn: str | None, endpoint_type: str) -> None:
        """AWS's refusals of a missing or unknown certificate (blocks when ACM is asked: run it in a thread)."""
        if not arn:
            raise bad(f"A certificate was not provided for the endpoint type {endpoint_type}.")
        if not CERTIFICATE_ARN.match(arn) or self.certificate_exists(arn) is False:
            raise bad("Invalid request provided: The provided certificate does not exist.")

    def create(self, name: str, *, endpoint_type: str, certificate_arn: str | None, certificate_name: str | None,
               security_policy: str | None, ip_address_type: str | None, tags: dict | None,
               mutual: dict | None = None, routing_mode: str | None = None, policy: str | None = None) -> dict:
        name = check_name(name)
        private = endpoint_type == "PRIVATE"
        if (self.get(name) if not private else next(iter(self._private.get(name) or []), None)) is not None:
            raise conflict("The domain name you provided already exists.")
        if endpoint_type not in ("REGIONAL", "EDGE", "PRIVATE"):
            raise bad(f"Invalid endpoint type {endpoint_type}: expected EDGE, REGIONAL or PRIVATE.")
        if private:
            if name.startswith("*."):
                raise bad("Wildcard domain names are not supported for private custom domain names.")
            if (security_policy or "TLS_1_2") != "TLS_1_2":
                raise bad("Private custom domain names support the TLS_1_2 security policy only.")
            private_domains.check_policy(policy)
            if self.limits.api_private_domains <= sum(1 for k in self.keys() if "+" in k):
                raise AwsError("LimitExceededException", f"At most {self.limits.api_private_domains} private custom "
                               "domain names per account and Region.", 429)
        record = {"domainName": name, "id": new_id(10).lower() if private else "d-" + new_id(10),
                  "createdDate": time.time(),
                  "endpointType": endpoint_type, "certificateArn": certificate_arn,
                  "certificateName": certificate_name, "certificateUploadDate": time.time(),
                  "securityPolicy": security_policy or "TLS_1_2", "ipAddressType": ip_address_type or "ipv4",
                  "tags": dict(tags or {}), "mappings": {}, "mutualTls": mutual}
        self.set_routing_mode(record, routing_mode)
        if private:
            record.update(policy=policy, associations={})
        self.save(record)
        return record

    def fetch_certificate(self, record: dict) -> None:
        """The domain's certificate for the TLS port, where ACM exports it. Blocks (run it in a thread)."""
        if self.install_certificate is not None:
            self.install_certificate(record["domainName"], record["certificateArn"])

    def truststore(self, endpoint_type: str, given: dict | None, *, v2: bool) -> dict | None:
        """The mutual TLS record of a CreateDomainName/UpdateDomainName's ``mutualTlsAuthentication``
        (None: none asked). Blocks: S3 is read (run it in a thread)."""
        uri = (given or {}).get("TruststoreUri" if v2 else "truststoreUri")
        if not uri:
            return None
        if endpoint_type != "REGIONAL":
            raise bad("Mutual TLS is only supported for REGIONAL domain names.")
        if self.read_object is None:
            raise bad("Lamb cannot read the truststore: no S3 is configured for it (boto3's standard "
                      "configuration, e.g. AWS_ENDPOINT_URL_S3).")
        return mutual_tls.load(self.read_object, uri, given.get("TruststoreVersion" if v2 else "truststoreVersion"),
                               self.limits)

    def save(self, record: dict) -> None:
        self.store.put(self.key_of(record), record)

    def delete(self, name: str) -> None:
        self.delete_record(self.record(name))

    def delete_record(self, record: dict) -> None:
        self.store.delete(self.key_of(record))

    # ------------------------------------------------------------------ mappings
    def mapping(self, record: dict, mapping_id: str, what: str = "base path mapping") -> dict:
        found = record["mappings"].get(mapping_id)
        if found is None:
            raise not_found(f"Invalid {what} identifier specified")
        return found

    def by_key(self, record: dict, key: str) -> dict | None:
        return next((m for m in record["mappings"].values() if m["key"] == key), None)

    def put_mapping(self, record: dict, *, key: str, api_id: str, stage: str | None, mapping_id: str | None = None,
                    exists: str = "Base path already exists for this domain name") -> dict:
        """Add (``mapping_id`` None) or replace a mapping, with AWS's conflicts."""
        key = check_key(key, multi_level(record), self.limits.api_mapping_key_max_chars)
        other = self.by_key(record, key)
        if other is not None and other["id"] != mapping_id:
            raise conflict(exists)
        others = [m for m in record["mappings"].values() if m["id"] != mapping_id]
        if not multi_level(record) and others and (key == "" or any(m["key"] == "" for m in others)):
            raise conflict("Only one base path mapping is allowed if the base path is empty.")
        most = self.limits.api_multi_level_mappings_per_domain
        if "/" in key and sum("/" in m["key"] for m in others) >= most:
            raise AwsError("LimitExceededException", f"At most {most} API mappings with multiple levels per "
                           "domain name.", 429)
        mapping = {"id": mapping_id or new_id(6), "key": key, "apiId": api_id, "stage": stage}
        record["mappings"][mapping["id"]] = mapping
        self.save(record)
        return mapping

    # ------------------------------------------------------------------ routing rules
    def set_routing_mode(self, record: dict, mode: str | None) -> None:
        """A Create/UpdateDomainName's ``RoutingMode`` on a record (not saved): kept only when not the default."""
        if mode is None:
            return
        if mode not in routing_rules.MODES:
            raise bad(f"Invalid routing mode {mode}: expected one of {', '.join(routing_rules.MODES)}.")
        if mode == "API_MAPPING_ONLY":
            record.pop("routingMode", None)
        else:
            record["routingMode"] = mode

    def rule(self, record: dict, rule_id: str) -> dict:
        found = (record.get("rules") or {}).get(rule_id)
        if found is None:
            raise not_found("Invalid routing rule identifier specified")
        return found

    def put_rule(self, record: dict, *, conditions: list | None, actions: list, priority: int,
                 rule_id: str | None = None) -> dict:
        """Add (``rule_id`` None) or replace a routing rule, with AWS's limits and conflicts (the target
        API and stage are the caller's to check)."""
        routing_rules.check(conditions, actions, priority, self.limits.api_mapping_key_max_chars)
        rules = record.setdefault("rules", {})
        if any(r["Priority"] == priority and r["id"] != rule_id for r in rules.values()):
            raise conflict(f"A routing rule with priority {priority} already exists for this domain name.")
        most = self.limits.api_routing_rules_per_domain
        if rule_id is None and len(rules) >= most:
            raise AwsError("LimitExceededException", f"At most {most} routing rules per domain name.", 429)
        invoke = actions[0]["InvokeApi"]
        action = {"ApiId": invoke["ApiId"], "Stage": invoke["Stage"], "StripBasePath": bool(invoke.get("StripBasePath"))}
        conds = [{"MatchHeaders": {"AnyOf": [{"Header": c["MatchHeaders"]["AnyOf"][0]["Header"],
                                               "ValueGlob": c["MatchHeaders"]["AnyOf"][0]["ValueGlob"]}]}}
                 if c.get("MatchHeaders") else {"MatchBasePaths": {"AnyOf": [c["MatchBasePaths"]["AnyOf"][0]]}}
                 for c in conditions or []]
        rule = {"id": rule_id or new_id(6), "Priority": priority, "Conditions": conds,
                "Actions": [{"InvokeApi": action}]}
        rules[rule["id"]] = rule
        self.save(record)
        return rule

    def delete_rule(self, record: dict, rule_id: str) -> None:
        self.rule(record, rule_id)
        del record["rules"][rule_id]
        self.save(record)

    def mapped(self, api_id: str) -> bool:
        """Whether a mapping or a routing rule names the API (AWS refuses to delete it then)."""
        records = [self.store.get(k) for k in self.keys()]
        return any(m["apiId"] == api_id for r in records for m in r["mappings"].values()) \
            or any(rule["Actions"][0]["InvokeApi"]["ApiId"] == api_id for r in records
                   for rule in (r.get("rules") or {}).values())

    def delete_mapping(self, record: dict, mapping_id: str) -> None:
        del record["mappings"][mapping_id]
        self.save(record)

    # ------------------------------------------------------------------ serving
    def route(self, req: Request) -> Routed | None:
        """Where a request for a custom domain goes (``api_id`` None: no mapping matches), or None when
        the request is not for one of this scope's custom domains. Asked for every request that names no
        execute-api host (Invoke's included): string operations and dict lookups only."""
        apis = self.store.apis
        if not apis:
            return None
        if self._private and private_domains.HEADER in req.headers:
            routed = self._private_route(req)
            if routed is not None:
                return routed  # else the name is no private one: a public name's request as any other
        host = req.headers.get("host")
        if host:
            name = host.partition(":")[0].lower() if host[0] != "[" else host.lower()
            record = apis.get(name)
            if record is None and self._wildcards:
                record = apis.get("*." + name.partition(".")[2])
            if record is not None:
                if record.get("mutualTls") is not None:
                    return self._mutual(req, record, name, req.path)
                return self.match(record, name, req.path) if record.get("routingMode") is None else \
                    self._by_rules(req, record, name, req.path)
        path = req.path
        if not path.startswith(PATH_PREFIX):
            return None
        name, _, rest = path[len(PATH_PREFIX):].partition("/")
        record = apis.get(name.lower())
        if record is None:
            return None
        if record.get("mutualTls") is not None:
            return self._mutual(req, record, name.lower(), "/" + rest)
        return self.match(record, name.lower(), "/" + rest) if record.get("routingMode") is None else \
            self._by_rules(req, record, name.lower(), "/" + rest)

    def _mutual(self, req: Request, record: dict, host: str, path: str) -> Routed:
        """A mutual TLS domain: served only to a client certificate its truststore verified."""
        cert = mutual_tls.of_request(req, record)
        if cert is None:
            return Routed(None, None, path, Via(host, host.partition(".")[0], path))
        routed = self.match(record, host, path) if record.get("routingMode") is None else \
            self._by_rules(req, record, host, path)
        return routed._replace(via=routed.via._replace(client_cert=cert))

    def tls_site(self, server_name: str) -> "tuple[str, str | None, str] | None":
        """(domain name, truststore PEM or None, its marker) of the domain a TLS handshake names."""
        apis = self.store.apis
        record = apis.get(server_name)
        if record is None and self._wildcards:
            record = apis.get("*." + server_name.partition(".")[2])
        if record is None:
            return None
        mtls = record.get("mutualTls")
        return record["domainName"], (mtls["pem"] if mtls else None), (mtls["marker"] if mtls else "")

    def _private_route(self, req: Request) -> Routed | None:
        """A request naming a VPC endpoint: the private domain its Host or path names, served when the
        endpoint has an access association with it and the domain's policy allows it (403 otherwise)."""
        vpce = req.headers[private_domains.HEADER]
        host = (req.headers.get("host") or "").partition(":")[0].lower()
        path = req.path
        if host not in self._private and path.startswith(PATH_PREFIX):
            host, _, rest = path[len(PATH_PREFIX):].partition("/")
            host, path = host.lower(), "/" + rest
        keys = self._private.get(host)
        if not keys:
            return None
        for key in keys:
            record = self.store.get(key)
            if record is None or vpce not in (record.get("associations") or {}):
                continue
            domain_arn = private_domains.execute_arn(self.region, self.account_id, host, record["id"])
            if not private_domains.allowed(record["policy"], vpce, domain_arn):
                break
            return self.match(record, host, path) if record.get("routingMode") is None else \
                self._by_rules(req, record, host, path)
        return Routed(None, None, path, Via(host, host.partition(".")[0], path))

    def _by_rules(self, req: Request, record: dict, host: str, path: str) -> Routed:
        """A domain with routing rules: the first rule by priority whose conditions hold, then (mode
        ``ROUTING_RULE_THEN_API_MAPPING``) the API mappings; nothing matching: 403."""
        name = self.key_of(record)
        rules = self._rules.get(name)
        if rules is None:
            rules = self._rules[name] = routing_rules.ordered(record.get("rules") or {})
        rule = routing_rules.first_match(rules, req.headers, path)
        if rule is not None:
            via = Via(host, host.partition(".")[0], path, rule_id=rule.id)
            return Routed(rule.api_id, rule.stage, routing_rules.routed_path(rule, path), via)
        if record["routingMode"] == "ROUTING_RULE_ONLY":
            return Routed(None, None, path, Via(host, host.partition(".")[0], path))
        return self.match(record, host, path)

    def _changed(self, name: str) -> None:
        self._wildcards = any(n.startswith("*.") for n in self.store.apis)
        private: dict[str, list[str]] = {}
        for k in self.store.apis:
            if "+" in k:
                private.setdefault(k.partition("+")[0], []).append(k)
        self._private = private
        if name:
            self._rules.pop(name, None)
        else:
            self._rules.clear()

    @staticmethod
    def match(record: dict, host: str, path: str) -> Routed:
        """The mapping of the longest key that is a whole-level prefix of ``path``."""
        best: dict | None = None
        levels = -1
        for m in record["mappings"].values():
            key = m["key"]
            if not key:
                if levels < 0:
                    best, levels = m, 0
                continue
            n = key.count("/") + 1
            if n > levels and (path.startswith(key, 1) and (len(path) == len(key) + 1 or path[len(key) + 1] == "/")):
                best, levels = m, n
        via = Via(host, host.partition(".")[0], path)
        if best is None:
            return Routed(None, None, path, via)
        return Routed(best["apiId"], best.get("stage"), path[len(best["key"]) + 1:] or "/" if best["key"] else path,
                      via._replace(key=best["key"]))
