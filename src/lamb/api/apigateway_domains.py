"""Custom domain names and base path mappings through botocore's ``apigateway`` model (REST APIs, v1).

CreateDomainName, GetDomainName(s), UpdateDomainName, DeleteDomainName; CreateBasePathMapping,
GetBasePathMapping(s), UpdateBasePathMapping, DeleteBasePathMapping
(https://docs.aws.amazon.com/apigateway/latest/api/API_CreateDomainName.html,
…/API_CreateBasePathMapping.html). The records are ``apis/domains.py``'s, shared with the v2 operations
(``apigatewayv2_domains.py``): a domain made by either API is seen by both. Endpoint types EDGE
(``certificateArn``; ``distributionDomainName``) and REGIONAL (``regionalCertificateArn``;
``regionalDomainName``), both ``d-<id>.execute-api.<region>.localhost`` (``domains.gateway_name``).
A base path mapping without a stage lets callers name the stage after the base path, as on AWS.
Mutual TLS (``mutualTlsAuthentication``; PATCH ``/mutualTlsAuthentication/truststoreUri``,
``…/truststoreVersion``) reads the truststore from S3 (``apis/mutual_tls.py``). ``routingMode`` (create;
PATCH ``/routingMode``) says how the domain's routing rules (managed through apigatewayv2) and its base
path mappings combine. PRIVATE domain names (``domainNameId``, ``policy``, PATCH ``/policy``; their base path
mappings name private REST APIs) and their access associations (CreateDomainNameAccessAssociation,
GetDomainNameAccessAssociations, DeleteDomainNameAccessAssociation, RejectDomainNameAccessAssociation) are
``apis/private_domains.py``'s. Uploaded certificates (``certificateBody``…) are refused.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from ..apis import domains as dn
from ..apis import mutual_tls
from . import operation
from .apigateway import SERVICE
from ..apis import private_domains as pd
from ..protocol.errors import AwsError
from .apigatewayv2_domains import private_api_matches, stage_exists

if TYPE_CHECKING:
    from ..apis.domains import Domains
    from .context import RequestContext

NONE = "(none)"
# v1 names the routing modes after base path mappings; records keep v2's names (routing_rules.MODES).
_MODE_IN = {"BASE_PATH_MAPPING_ONLY": "API_MAPPING_ONLY", "ROUTING_RULE_ONLY": "ROUTING_RULE_ONLY",
            "ROUTING_RULE_THEN_BASE_PATH_MAPPING": "ROUTING_RULE_THEN_API_MAPPING"}
_MODE_OUT = {v: k for k, v in _MODE_IN.items()}


def _mode(value: str | None) -> str | None:
    """A v1 routing mode as the record keeps it."""
    if value is not None and value not in _MODE_IN:
        raise dn.bad(f"Invalid routing mode {value}: expected one of {', '.join(_MODE_IN)}.")
    return None if value is None else _MODE_IN[value]


def _domains(ctx: "RequestContext") -> "Domains":
    return ctx.lamb.http_apis.domains


def view(domains: "Domains", record: dict) -> dict:
    """A domain record as v1's ``DomainName``."""
    edge = record["endpointType"] == "EDGE"
    out = {"domainName": record["domainName"], "domainNameArn": domains.arn_of(record),
           "certificateUploadDate": record["certificateUploadDate"],
           "endpointConfiguration": {"types": [record["endpointType"]], "ipAddressType": record["ipAddressType"]},
           "domainNameStatus": "AVAILABLE", "securityPolicy": record["securityPolicy"],
           "tags": dict(record.get("tags") or {}), "routingMode": _MODE_OUT[record.get("routingMode") or "API_MAPPING_ONLY"]}
    name = dn.gateway_name(record["id"], domains.region)
    zone = dn.hosted_zone(domains.region, record["endpointType"])
    if domains.private(record):
        out.update(domainNameId=record["id"], certificateArn=record["certificateArn"], policy=record["policy"])
        if record.get("certificateName"):
            out["certificateName"] = record["certificateName"]
    elif edge:
        out.update(certificateArn=record["certificateArn"], distributionDomainName=name, distributionHostedZoneId=zone)
        if record.get("certificateName"):
            out["certificateName"] = record["certificateName"]
    else:
        out.update(regionalCertificateArn=record["certificateArn"], regionalDomainName=name,
                   regionalHostedZoneId=zone)
        if record.get("certificateName"):
            out["regionalCertificateName"] = record["certificateName"]
    mtls = mutual_tls.view(record.get("mutualTls"), v2=False)
    if mtls is not None:
        out["mutualTlsAuthentication"] = mtls
    return out


def _mapping_view(m: dict) -> dict:
    out = {"basePath": m["key"] or NONE, "restApiId": m["apiId"]}
    if m.get("stage"):
        out["stage"] = m["stage"]
    return out


def _record(ctx: "RequestContext", params: dict) -> dict:
    return _domains(ctx).find(params["domainName"], params.get("domainNameId"))


def _page(params: dict, items: list[dict]) -> dict:
    start = int(params["position"]) if str(params.get("position") or "").isdigit() else 0
    size = int(params.get("limit") or 25)  # API Gateway's default page
    out: dict = {"items": items[start:start + size]}
    if start + size < len(items):
        out["position"] = str(start + size)
    return out


@operation("CreateDomainName", service=SERVICE)
async def create_domain_name(ctx: "RequestContext", params: dict) -> dict:
    types = (params.get("endpointConfiguration") or {}).get("types") or ["EDGE"]
    if len(types) != 1 or types[0] not in ("EDGE", "REGIONAL", "PRIVATE"):
        raise dn.bad(f"Invalid endpoint configuration types {types}: expected one of EDGE, REGIONAL or PRIVATE.")
    kind = types[0]
    if params.get("policy") and kind != "PRIVATE":
        raise dn.bad("A policy is only supported for private custom domain names.")
    for refused in ("certificateBody", "certificatePrivateKey", "certificateChain",
                    "ownershipVerificationCertificateArn"):
        if params.get(refused):
            raise dn.bad(f"{refused} is not supported by Lamb (import certificates into ACM; the TLS port serves "
                         "a domain's certificate from Lamb's certificates folder).")
    if (params.get("endpointConfiguration") or {}).get("vpcEndpointIds"):
        raise dn.bad("vpcEndpointIds are for private APIs: a private custom domain name is reached through "
                     "its domain name access associations.")
    arn = params.get("regionalCertificateArn") if kind == "REGIONAL" else params.get("certificateArn")
    name = params.get("regionalCertificateName") if kind == "REGIONAL" else params.get("certificateName")
    domains = _domains(ctx)
    dn.check_name(params["domainName"])
    domains.set_routing_mode({}, _mode(params.get("routingMode")))  # refused before the waits when not a mode
    await asyncio.to_thread(domains.check_certificate, arn, kind)
    mutual = await asyncio.to_thread(domains.truststore, kind, params.get("mutualTlsAuthentication"), v2=False)
    record = domains.create(params["domainName"], endpoint_type=kind, certificate_arn=arn, certificate_name=name,
                            security_policy=params.get("securityPolicy"),
                            ip_address_type=(params.get("endpointConfiguration") or {}).get("ipAddressType"),
                            tags=params.get("tags"), mutual=mutual, routing_mode=_mode(params.get("routingMode")),
                            policy=params.get("policy"))
    await asyncio.to_thread(domains.fetch_certificate, record)  # for the TLS port, where ACM exports it
    return view(domains, record)


@operation("GetDomainName", service=SERVICE)
def get_domain_name(ctx: "RequestContext", params: dict) -> dict:
    return view(_domains(ctx), _record(ctx, params))


@operation("GetDomainNames", service=SERVICE)
def get_domain_names(ctx: "RequestContext", params: dict) -> dict:
    if params.get("resourceOwner") == "OTHER_ACCOUNTS":
        return {"items": []}  # no domain name is shared from another account (no RAM in Lamb)
    domains = _domains(ctx)
    return _page(params, [view(domains, domains.store.get(k)) for k in domains.keys()])


_CERT_PATHS = {"/certificateArn": "certificateArn", "/regionalCertificateArn": "certificateArn",
               "/certificateName": "certificateName", "/regionalCertificateName": "certificateName"}


@operation("UpdateDomainName", service=SERVICE)
async def update_domain_name(ctx: "RequestContext", params: dict) -> dict:
    """PATCH operations: replace ``/certificateArn``/``/regionalCertificateArn`` (and their names),
    ``/securityPolicy``, ``/endpointConfiguration/types/EDGE`` (value REGIONAL: an edge name made regional),
    ``/mutualTlsAuthentication/truststoreUri`` and ``…/truststoreVersion`` (the truststore read again; an
    empty URI turns mutual TLS off), ``/routingMode``."""
    domains = _domains(ctx)
    record = dict(_record(ctx, params))
    old_mtls = record.get("mutualTls") or {}
    truststore = {"truststoreUri": old_mtls.get("truststoreUri"), "truststoreVersion": old_mtls.get("truststoreVersion")}
    for op in params.get("patchOperations") or []:
        path, value = op.get("path") or "", op.get("value")
        if op.get("op") != "replace":
            raise dn.bad(f"Invalid patch path '{path}' specified for op '{op.get('op')}'")
        if path in ("/mutualTlsAuthentication/truststoreUri", "/mutualTlsAuthentication/truststoreVersion"):
            truststore[path.rpartition("/")[2]] = value or None
        elif path in _CERT_PATHS:
            record[_CERT_PATHS[path]] = value
        elif path == "/policy" and domains.private(record):
            pd.check_policy(value)
            record["policy"] = value
        elif path == "/routingMode":
            domains.set_routing_mode(record, _mode(value))
        elif path == "/securityPolicy" and value in ("TLS_1_0", "TLS_1_2"):
            record["securityPolicy"] = value
        elif path == f"/endpointConfiguration/types/{record['endpointType']}" and value in ("EDGE", "REGIONAL") \
                and not domains.private(record):
            record["endpointType"] = value
        else:
            raise dn.bad(f"Invalid patch path '{path}' specified for op 'replace'")
    if not dn.multi_level(record) and any("/" in m["key"] for m in record["mappings"].values()):
        raise dn.bad("Multi-level base path mappings are only supported for REGIONAL domain names with the "
                     "TLS_1_2 security policy.")
    old = _record(ctx, params)
    if record["certificateArn"] != old["certificateArn"]:
        await asyncio.to_thread(domains.check_certificate, record["certificateArn"], record["endpointType"])
        record["certificateUploadDate"] = time.time()
    if truststore != {k: old_mtls.get(k) for k in truststore} or (old_mtls and record["endpointType"] != "REGIONAL"):
        record["mutualTls"] = await asyncio.to_thread(domains.truststore, record["endpointType"], truststore, v2=False)
    record["mappings"] = _record(ctx, params)["mappings"]  # as they are now, after the wait
    record["rules"] = _record(ctx, params).get("rules") or {}
    domains.save(record)
    await asyncio.to_thread(domains.fetch_certificate, record)
    return view(domains, record)


@operation("DeleteDomainName", service=SERVICE)
def delete_domain_name(ctx: "RequestContext", params: dict) -> dict:
    _domains(ctx).delete_record(_record(ctx, params))
    return {}


# ------------------------------------------------------------------ base path mappings
def _by_base_path(ctx: "RequestContext", record: dict, base_path: str) -> dict:
    key = "" if base_path in (NONE, "") else base_path
    found = _domains(ctx).by_key(record, key)
    if found is None:
        raise dn.not_found("Invalid base path mapping identifier specified")
    return found


@operation("CreateBasePathMapping", service=SERVICE)
def create_base_path_mapping(ctx: "RequestContext", params: dict) -> dict:
    record = _record(ctx, params)
    stage = params.get("stage") or None
    stage_exists(ctx, params["restApiId"], stage, v1=True)
    private_api_matches(ctx, record, params["restApiId"])
    m = _domains(ctx).put_mapping(record, key=params.get("basePath") or "", api_id=params["restApiId"], stage=stage)
    return _mapping_view(m)


@operation("GetBasePathMapping", service=SERVICE)
def get_base_path_mapping(ctx: "RequestContext", params: dict) -> dict:
    return _mapping_view(_by_base_path(ctx, _record(ctx, params), params["basePath"]))


@operation("GetBasePathMappings", service=SERVICE)
def get_base_path_mappings(ctx: "RequestContext", params: dict) -> dict:
    record = _record(ctx, params)
    return _page(params, [_mapping_view(m) for m in sorted(record["mappings"].values(), key=lambda m: m["key"])])


@operation("UpdateBasePathMapping", service=SERVICE)
def update_base_path_mapping(ctx: "RequestContext", params: dict) -> dict:
    """PATCH operations: replace ``/basePath``, ``/restapiId``, ``/stage``."""
    record = _record(ctx, params)
    old = _by_base_path(ctx, record, params["basePath"])
    key, api_id, stage = old["key"], old["apiId"], old.get("stage")
    for op in params.get("patchOperations") or []:
        path, value = op.get("path") or "", op.get("value")
        if op.get("op") != "replace" or path not in ("/basePath", "/restapiId", "/stage"):
            raise dn.bad(f"Invalid patch path '{path}' specified for op '{op.get('op')}'")
        if path == "/basePath":
            key = value or ""
        elif path == "/restapiId":
            api_id = value
        else:
            stage = value or None
    stage_exists(ctx, api_id, stage, v1=True)
    private_api_matches(ctx, record, api_id)
    m = _domains(ctx).put_mapping(record, key=key, api_id=api_id, stage=stage, mapping_id=old["id"])
    return _mapping_view(m)


@operation("DeleteBasePathMapping", service=SERVICE)
def delete_base_path_mapping(ctx: "RequestContext", params: dict) -> dict:
    record = _record(ctx, params)
    _domains(ctx).delete_mapping(record, _by_base_path(ctx, record, params["basePath"])["id"])
    return {}


# ------------------------------------------------------------------ domain name access associations
def _association_view(ctx: "RequestContext", record: dict, vpce: str) -> dict:
    entry = record["associations"][vpce]
    return {"domainNameAccessAssociationArn": entry["arn"], "domainNameArn": _domains(ctx).arn_of(record),
            "accessAssociationSourceType": "VPCE", "accessAssociationSource": vpce, "tags": dict(entry.get("tags") or {})}


def _private_record(ctx: "RequestContext", domain_arn: str) -> dict:
    parsed = pd.parse_arn(domain_arn)
    if parsed is None:
        raise dn.bad(f"Invalid domain name ARN specified: {domain_arn}. Access associations are for private "
                     "custom domain names.")
    return _domains(ctx).find(*parsed)


def _associations(ctx: "RequestContext") -> list[tuple[dict, str]]:
    domains = _domains(ctx)
    records = [domains.store.get(k) for k in domains.keys()]
    return [(r, vpce) for r in records if domains.private(r) for vpce in sorted(r.get("associations") or {})]


def _by_association_arn(ctx: "RequestContext", arn: str) -> tuple[dict, str]:
    found = next(((r, v) for r, v in _associations(ctx) if r["associations"][v]["arn"] == arn), None)
    if found is None:
        raise dn.not_found("Invalid domain name access association identifier specified")
    return found


@operation("CreateDomainNameAccessAssociation", service=SERVICE)
def create_domain_name_access_association(ctx: "RequestContext", params: dict) -> dict:
    """Associates a VPC endpoint (``accessAssociationSourceType`` VPCE) with a private domain name: requests
    naming that endpoint (``private_domains.HEADER``) may reach the domain."""
    if params.get("accessAssociationSourceType") != "VPCE":
        raise dn.bad("Invalid accessAssociationSourceType: only VPCE is supported.")
    vpce = params.get("accessAssociationSource") or ""
    if not pd.VPCE.match(vpce):
        raise dn.bad(f"Invalid VPC endpoint identifier specified: {vpce}")
    record = _private_record(ctx, params["domainNameArn"])
    if vpce in (record.get("associations") or {}):
        raise dn.conflict("A domain name access association already exists for this VPC endpoint and domain name.")
    most = ctx.lamb.settings.limits.api_domain_access_associations
    if len(_associations(ctx)) >= most:
        raise AwsError("LimitExceededException", f"At most {most} domain name access associations per account.", 429)
    domains = _domains(ctx)
    arn = pd.association_arn(domains.region, domains.account_id, record["domainName"], record["id"], vpce)
    record.setdefault("associations", {})[vpce] = {"arn": arn, "tags": dict(params.get("tags") or {})}
    domains.save(record)
    return _association_view(ctx, record, vpce)


@operation("GetDomainNameAccessAssociations", service=SERVICE)
def get_domain_name_access_associations(ctx: "RequestContext", params: dict) -> dict:
    if params.get("resourceOwner") == "OTHER_ACCOUNTS":
        return {"items": []}  # no other account associates endpoints with this account's names in Lamb
    return _page(params, [_association_view(ctx, r, v) for r, v in _associations(ctx)])


@operation("DeleteDomainNameAccessAssociation", service=SERVICE)
def delete_domain_name_access_association(ctx: "RequestContext", params: dict) -> dict:
    record, vpce = _by_association_arn(ctx, params["domainNameAccessAssociationArn"])
    del record["associations"][vpce]
    _domains(ctx).save(record)
    return {}


@operation("RejectDomainNameAccessAssociation", service=SERVICE)
def reject_domain_name_access_association(ctx: "RequestContext", params: dict) -> dict:
    """The domain name's owner ends an association with its domain name (Lamb: every association is the
    account's own, so rejecting removes it as deleting does)."""
    record, vpce = _by_association_arn(ctx, params["domainNameAccessAssociationArn"])
    if _domains(ctx).arn_of(record) != params.get("domainNameArn"):
        raise dn.not_found("Invalid domain name identifier specified")
    del record["associations"][vpce]
    _domains(ctx).save(record)
    return {}
