"""Custom domain names and API mappings through botocore's ``apigatewayv2`` model.

CreateDomainName, GetDomainName(s), UpdateDomainName, DeleteDomainName; CreateApiMapping,
GetApiMapping(s), UpdateApiMapping, DeleteApiMapping
(https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/domainnames.html,
…/domainnames-domainname-apimappings.html). The records are ``apis/domains.py``'s, shared with the
v1 operations (``apigateway_domains.py``). One ``DomainNameConfigurations`` entry, endpoint type
REGIONAL; ``ApiGatewayDomainName`` is ``d-<id>.execute-api.<region>.localhost`` (``domains.gateway_name``).
An API mapping may name an HTTP API or a REST API (as on AWS); its stage must exist. Mutual TLS
(``MutualTlsAuthentication``) reads the truststore from S3 (``apis/mutual_tls.py``). ``RoutingMode`` and
routing rules (CreateRoutingRule, GetRoutingRule, ListRoutingRules, PutRoutingRule, DeleteRoutingRule;
…/domainnames-domainname-routingrules.html), checked and matched by ``apis/routing_rules.py``: a rule
invokes a REST API's stage, and a domain with rules takes no API mapping to an HTTP API (nor the reverse).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from ..apis import domains as dn
from ..apis import mutual_tls
from ..protocol.errors import AwsError
from . import operation
from .apigatewayv2 import SERVICE, _page

if TYPE_CHECKING:
    from ..apis.domains import Domains
    from .context import RequestContext


def _domains(ctx: "RequestContext") -> "Domains":
    return ctx.lamb.http_apis.domains


def view(domains: "Domains", record: dict) -> dict:
    """A domain record as v2's ``DomainName``."""
    conf = {"ApiGatewayDomainName": dn.gateway_name(record["id"], domains.region),
            "CertificateArn": record["certificateArn"], "CertificateUploadDate": record["certificateUploadDate"],
            "DomainNameStatus": "AVAILABLE", "EndpointType": record["endpointType"],
            "HostedZoneId": dn.hosted_zone(domains.region, record["endpointType"]),
            "SecurityPolicy": record["securityPolicy"], "IpAddressType": record["ipAddressType"]}
    if record.get("certificateName"):
        conf["CertificateName"] = record["certificateName"]
    out = {"DomainName": record["domainName"], "DomainNameArn": domains.arn(record["domainName"]),
           "ApiMappingSelectionExpression": "$request.basepath", "DomainNameConfigurations": [conf],
           "RoutingMode": record.get("routingMode") or "API_MAPPING_ONLY", "Tags": dict(record.get("tags") or {})}
    mtls = mutual_tls.view(record.get("mutualTls"), v2=True)
    if mtls is not None:
        out["MutualTlsAuthentication"] = mtls
    return out


def _mapping_view(m: dict) -> dict:
    out = {"ApiId": m["apiId"], "ApiMappingId": m["id"], "Stage": m.get("stage") or ""}
    if m["key"]:
        out["ApiMappingKey"] = m["key"]
    return out


def _configuration(params: dict) -> dict:
    confs = params.get("DomainNameConfigurations") or []
    if len(confs) != 1:
        raise dn.bad("Invalid input. Expected one domain name configuration.")
    conf = confs[0]
    if conf.get("EndpointType", "REGIONAL") != "REGIONAL":
        raise dn.bad("Invalid endpoint type specified. Only REGIONAL is supported for API Gateway V2 domain names.")
    if conf.get("OwnershipVerificationCertificateArn"):
        raise dn.bad("OwnershipVerificationCertificateArn is for certificates imported from other CAs; "
                     "Lamb does not serve it.")
    return conf


@operation("CreateDomainName", service=SERVICE)
async def create_domain_name(ctx: "RequestContext", params: dict) -> dict:
    conf = _configuration(params)
    domains = _domains(ctx)
    dn.check_name(params["DomainName"])
    domains.set_routing_mode({}, params.get("RoutingMode"))  # refused before the waits when not a mode
    await asyncio.to_thread(domains.check_certificate, conf.get("CertificateArn"), "REGIONAL")
    mutual = await asyncio.to_thread(domains.truststore, "REGIONAL", params.get("MutualTlsAuthentication"), v2=True)
    record = domains.create(params["DomainName"], endpoint_type="REGIONAL", certificate_arn=conf.get("CertificateArn"),
                            certificate_name=conf.get("CertificateName"), security_policy=conf.get("SecurityPolicy"),
                            ip_address_type=conf.get("IpAddressType"), tags=params.get("Tags"), mutual=mutual,
                            routing_mode=params.get("RoutingMode"))
    await asyncio.to_thread(domains.fetch_certificate, record)  # for the TLS port, where ACM exports it
    return view(domains, record)


@operation("GetDomainName", service=SERVICE)
def get_domain_name(ctx: "RequestContext", params: dict) -> dict:
    domains = _domains(ctx)
    return view(domains, domains.record(params["DomainName"]))


@operation("GetDomainNames", service=SERVICE)
def get_domain_names(ctx: "RequestContext", params: dict) -> dict:
    domains = _domains(ctx)
    return _page(params, [view(domains, domains.record(n)) for n in domains.names()])


@operation("UpdateDomainName", service=SERVICE)
async def update_domain_name(ctx: "RequestContext", params: dict) -> dict:
    domains = _domains(ctx)
    record = domains.record(params["DomainName"])
    domains.set_routing_mode(dict(record), params.get("RoutingMode"))  # refused before the waits when not a mode
    given_mtls = params.get("MutualTlsAuthentication")
    mutual = None
    if given_mtls is not None:  # the truststore read again; an empty URI turns mutual TLS off
        mutual = await asyncio.to_thread(domains.truststore, record["endpointType"], given_mtls, v2=True)
    conf = _configuration(params)  # AWS wants it on every update, a truststore change's too
    if conf.get("EndpointType") not in (None, record["endpointType"]):
        raise dn.bad("The endpoint type of a domain name cannot be changed.")
    arn = conf.get("CertificateArn") or record["certificateArn"]
    await asyncio.to_thread(domains.check_certificate, arn, record["endpointType"])
    record = dict(domains.record(params["DomainName"]))  # as it is now, after the waits; saved whole or not at all
    if arn != record["certificateArn"]:
        record.update(certificateArn=arn, certificateUploadDate=time.time())
    for key, field in (("CertificateName", "certificateName"), ("SecurityPolicy", "securityPolicy"),
                       ("IpAddressType", "ipAddressType")):
        if conf.get(key) is not None:
            record[field] = conf[key]
    if record["endpointType"] == "REGIONAL" and record["securityPolicy"] != "TLS_1_2" and \
            any("/" in m["key"] for m in record["mappings"].values()):
        raise dn.bad("Multi-level base path mappings are only supported for REGIONAL domain names with the "
                     "TLS_1_2 security policy.")
    if given_mtls is not None:
        record["mutualTls"] = mutual
    domains.set_routing_mode(record, params.get("RoutingMode"))
    domains.save(record)
    await asyncio.to_thread(domains.fetch_certificate, record)
    return view(domains, record)


@operation("DeleteDomainName", service=SERVICE)
def delete_domain_name(ctx: "RequestContext", params: dict) -> dict:
    _domains(ctx).delete(params["DomainName"])
    return {}


# ------------------------------------------------------------------ API mappings
def stage_exists(ctx: "RequestContext", api_id: str, stage: str | None, *, v1: bool) -> None:
    """The API (HTTP or REST; v1: REST) must exist, and so must the stage when one is named."""
    apis = ctx.lamb.http_apis
    doc = apis.rest.get(api_id) if v1 else apis.store.get(api_id) or apis.rest.get(api_id)
    if doc is None:
        raise dn.bad("Invalid REST API identifier specified") if v1 else \
            dn.not_found(f"Invalid API identifier specified {ctx.lamb.settings.account_id}:{api_id}")
    if stage is not None and stage not in doc["stages"]:
        raise dn.bad("Invalid stage identifier specified")


def private_api_matches(ctx: "RequestContext", record: dict, api_id: str) -> None:
    """A private domain name routes to private REST APIs only, a public one to public APIs only."""
    doc = ctx.lamb.http_apis.rest.get(api_id)
    if doc is None:
        return
    private_api = "PRIVATE" in ((doc["api"].get("endpointConfiguration") or {}).get("types") or [])
    if _domains(ctx).private(record) and not private_api:
        raise dn.bad("Only private APIs can be mapped to a private custom domain name.")
    if private_api and not _domains(ctx).private(record):
        raise dn.bad("Private APIs can only be mapped to a private custom domain name.")


def _mapped_api_allowed(ctx: "RequestContext", record: dict, api_id: str) -> None:
    """HTTP APIs map only to REGIONAL domain names with the TLS 1.2 security policy, and not to a domain
    with routing rules (AWS supports no rules on a domain mapped to REST and HTTP APIs both)."""
    if ctx.lamb.http_apis.store.get(api_id) is not None and not dn.multi_level(record):
        raise dn.bad("HTTP APIs can only be mapped to REGIONAL domain names with the TLS_1_2 security policy.")
    private_api_matches(ctx, record, api_id)
    if ctx.lamb.http_apis.store.get(api_id) is not None and record.get("rules"):
        raise dn.bad("Routing rules are not supported for a domain name with API mappings to both REST and "
                     "HTTP APIs: remove the domain name's routing rules first.")


@operation("CreateApiMapping", service=SERVICE)
def create_api_mapping(ctx: "RequestContext", params: dict) -> dict:
    domains = _domains(ctx)
    record = domains.record(params["DomainName"])
    stage_exists(ctx, params["ApiId"], params["Stage"], v1=False)
    _mapped_api_allowed(ctx, record, params["ApiId"])
    m = domains.put_mapping(record, key=params.get("ApiMappingKey") or "", api_id=params["ApiId"],
                            stage=params["Stage"], exists="ApiMapping key already exists for this domain name")
    return _mapping_view(m)


@operation("GetApiMapping", service=SERVICE)
def get_api_mapping(ctx: "RequestContext", params: dict) -> dict:
    domains = _domains(ctx)
    return _mapping_view(domains.mapping(domains.record(params["DomainName"]), params["ApiMappingId"],
                                         "api mapping"))


@operation("GetApiMappings", service=SERVICE)
def get_api_mappings(ctx: "RequestContext", params: dict) -> dict:
    record = _domains(ctx).record(params["DomainName"])
    return _page(params, [_mapping_view(m) for m in sorted(record["mappings"].values(), key=lambda m: m["key"])])


@operation("UpdateApiMapping", service=SERVICE)
def update_api_mapping(ctx: "RequestContext", params: dict) -> dict:
    domains = _domains(ctx)
    record = domains.record(params["DomainName"])
    old = domains.mapping(record, params["ApiMappingId"], "api mapping")
    stage = params.get("Stage") or old.get("stage")
    if params["ApiId"] != old["apiId"] and not params.get("Stage"):
        raise dn.bad("Invalid stage identifier specified")
    stage_exists(ctx, params["ApiId"], stage, v1=False)
    _mapped_api_allowed(ctx, record, params["ApiId"])
    key = params["ApiMappingKey"] if params.get("ApiMappingKey") is not None else old["key"]
    m = domains.put_mapping(record, key=key, api_id=params["ApiId"], stage=stage, mapping_id=old["id"],
                            exists="ApiMapping key already exists for this domain name")
    return _mapping_view(m)


@operation("DeleteApiMapping", service=SERVICE)
def delete_api_mapping(ctx: "RequestContext", params: dict) -> dict:
    domains = _domains(ctx)
    record = domains.record(params["DomainName"])
    domains.mapping(record, params["ApiMappingId"], "api mapping")
    domains.delete_mapping(record, params["ApiMappingId"])
    return {}


# ------------------------------------------------------------------ routing rules
def _rule_record(ctx: "RequestContext", params: dict) -> dict:
    return _domains(ctx).find(params["DomainName"], params.get("DomainNameId"))


def _rule_view(ctx: "RequestContext", record: dict, rule: dict) -> dict:
    arn = (f"arn:aws:apigateway:{ctx.lamb.settings.region}:{ctx.lamb.settings.account_id}:/domainnames/"
           f"{_domains(ctx).key_of(record)}/routingrules/{rule['id']}")  # a private name's: <name>+<id>
    return {"Actions": rule["Actions"], "Conditions": rule["Conditions"], "Priority": rule["Priority"],
            "RoutingRuleArn": arn, "RoutingRuleId": rule["id"]}


def _rule_target(ctx: "RequestContext", record: dict, actions: list | None) -> None:
    """A rule invokes an existing stage of a REST API (AWS: WebSocket and HTTP APIs are no rule targets),
    on a domain not mapped to an HTTP API."""
    invoke = ((actions or [{}])[0] or {}).get("InvokeApi") or {}
    if not invoke.get("ApiId"):
        return  # routing_rules.check refuses it
    if ctx.lamb.http_apis.store.get(invoke["ApiId"]) is not None:
        raise dn.bad("Routing rules can only invoke REST APIs: WebSocket and HTTP APIs are not supported.")
    stage_exists(ctx, invoke["ApiId"], invoke.get("Stage") or None, v1=False)
    private_api_matches(ctx, record, invoke["ApiId"])
    if any(ctx.lamb.http_apis.store.get(m["apiId"]) is not None for m in record["mappings"].values()):
        raise dn.bad("Routing rules are not supported for a domain name with API mappings to both REST and "
                     "HTTP APIs.")


@operation("CreateRoutingRule", service=SERVICE)
def create_routing_rule(ctx: "RequestContext", params: dict) -> dict:
    record = _rule_record(ctx, params)
    _rule_target(ctx, record, params.get("Actions"))
    rule = _domains(ctx).put_rule(record, conditions=params.get("Conditions"), actions=params.get("Actions"),
                                  priority=params.get("Priority"))
    return _rule_view(ctx, record, rule)


@operation("GetRoutingRule", service=SERVICE)
def get_routing_rule(ctx: "RequestContext", params: dict) -> dict:
    record = _rule_record(ctx, params)
    return _rule_view(ctx, record, _domains(ctx).rule(record, params["RoutingRuleId"]))


@operation("ListRoutingRules", service=SERVICE)
def list_routing_rules(ctx: "RequestContext", params: dict) -> dict:
    record = _rule_record(ctx, params)
    rules = sorted((record.get("rules") or {}).values(), key=lambda r: r["Priority"])
    given = dict(params, MaxResults=str(params["MaxResults"])) if params.get("MaxResults") else params
    page = _page(given, [_rule_view(ctx, record, r) for r in rules])
    out = {"RoutingRules": page["Items"]}
    if page.get("NextToken"):
        out["NextToken"] = page["NextToken"]
    return out


@operation("PutRoutingRule", service=SERVICE)
def put_routing_rule(ctx: "RequestContext", params: dict) -> dict:
    record = _rule_record(ctx, params)
    _domains(ctx).rule(record, params["RoutingRuleId"])
    _rule_target(ctx, record, params.get("Actions"))
    rule = _domains(ctx).put_rule(record, conditions=params.get("Conditions"), actions=params.get("Actions"),
                                  priority=params.get("Priority"), rule_id=params["RoutingRuleId"])
    return _rule_view(ctx, record, rule)


@operation("DeleteRoutingRule", service=SERVICE)
def delete_routing_rule(ctx: "RequestContext", params: dict) -> dict:
    record = _rule_record(ctx, params)
    _domains(ctx).delete_rule(record, params["RoutingRuleId"])
    return {}


# ------------------------------------------------------------------ tags (TagResource & co. in apigatewayv2.py)
def tagged(ctx: "RequestContext", arn: str) -> dict | None:
    """The domain record a ``…::/domainnames/<name>`` ARN names (None: not a domain name's ARN)."""
    prefix = f"arn:aws:apigateway:{ctx.lamb.settings.region}::/domainnames/"
    if not arn.startswith(prefix):
        return None
    found = _domains(ctx).get(arn[len(prefix):])
    if found is None:
        raise AwsError("NotFoundException", f"Invalid Resource identifier specified {arn}", 404)
    return found


def save_tags(ctx: "RequestContext", record: dict, tags: dict) -> None:
    record["tags"] = tags
    _domains(ctx).save(record)
