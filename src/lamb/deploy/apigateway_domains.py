"""Handlers for API Gateway custom domain names (what SAM's ``Domain`` property on ``AWS::Serverless::Api``
and ``AWS::Serverless::HttpApi`` becomes), applied through the ``apigateway``/``apigatewayv2`` models Lamb
serves, and for the Route 53 records SAM adds (``Domain.Route53``), applied where a Route 53 endpoint is
configured (``AWS_ENDPOINT_URL_ROUTE_53``, or AWS with ``--use-aws``) and listed as skipped otherwise.

Properties, return values and replacements follow the CloudFormation reference:
…/aws-resource-apigateway-domainname.html, …-apigateway-basepathmapping.html, …-apigatewayv2-domainname.html,
…-apigatewayv2-apimapping.html, …-apigatewayv2-routingrule.html, …-route53-recordsetgroup.html,
…-route53-recordset.html. ``RoutingMode`` on both DomainName types is sent on create and on update.
Private custom domain names: ``AWS::ApiGateway::DomainNameV2`` (Ref and GetAtt ``DomainNameArn``, GetAtt
``DomainNameId``), ``AWS::ApiGateway::BasePathMappingV2`` (Ref/GetAtt ``BasePathMappingArn``) and
``AWS::ApiGateway::DomainNameAccessAssociation`` (Ref/GetAtt ``DomainNameAccessAssociationArn``).
"""

from __future__ import annotations

import abc
from typing import Any

from .apigateway_resources import _gone, _policy_text as _policy, _tags
from .registry import Applied, Env, Registry

NONE = "(none)"


def _mtls(props: dict, v2: bool) -> dict | None:
    """``MutualTlsAuthentication`` as the v1 (camelCase) or v2 (PascalCase) API takes it."""
    given = props.get("MutualTlsAuthentication") or {}
    if not given.get("TruststoreUri"):
        return None
    out = {"TruststoreUri": given["TruststoreUri"]}
    if given.get("TruststoreVersion"):
        out["TruststoreVersion"] = str(given["TruststoreVersion"])
    return out if v2 else {k[0].lower() + k[1:]: v for k, v in out.items()}


# ------------------------------------------------------------------ v1
class DomainName:
    """AWS::ApiGateway::DomainName. Ref: the domain name; GetAtt DistributionDomainName,
    DistributionHostedZoneId, RegionalDomainName, RegionalHostedZoneId, DomainNameArn."""

    replace_on = frozenset({"DomainName"})

    def _applied(self, d: dict) -> Applied:
        attrs = {"Ref": d["domainName"], "DomainNameArn": d.get("domainNameArn", "")}
        for key in ("distributionDomainName", "distributionHostedZoneId", "regionalDomainName", "regionalHostedZoneId"):
            attrs[key[0].upper() + key[1:]] = d.get(key, "")
        return Applied(d["domainName"], attrs)

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        conf = props.get("EndpointConfiguration") or {}
        params: dict = {"endpointConfiguration": {"types": conf.get("Types") or ["EDGE"]}}
        if conf.get("IpAddressType"):
            params["endpointConfiguration"]["ipAddressType"] = conf["IpAddressType"]
        for prop, key in (("CertificateArn", "certificateArn"), ("RegionalCertificateArn", "regionalCertificateArn"),
                          ("SecurityPolicy", "securityPolicy"), ("RoutingMode", "routingMode"),
                          ("OwnershipVerificationCertificateArn", "ownershipVerificationCertificateArn")):
            if props.get(prop):
                params[key] = props[prop]
        if props.get("Tags"):
            params["tags"] = _tags(props["Tags"])
        if _mtls(props, v2=False):
            params["mutualTlsAuthentication"] = _mtls(props, v2=False)
        return self._applied(apigw.create_domain_name(domainName=props["DomainName"], **params))

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        ops = []
        for prop, path in (("CertificateArn", "/certificateArn"), ("RegionalCertificateArn", "/regionalCertificateArn"),
                           ("SecurityPolicy", "/securityPolicy"), ("RoutingMode", "/routingMode")):
            if new.get(prop) and new.get(prop) != old.get(prop):
                ops.append({"op": "replace", "path": path, "value": new[prop]})
        before = ((old.get("EndpointConfiguration") or {}).get("Types") or ["EDGE"])[0]
        after = ((new.get("EndpointConfiguration") or {}).get("Types") or ["EDGE"])[0]
        if before != after:
            ops.insert(0, {"op": "replace", "path": f"/endpointConfiguration/types/{before}", "value": after})
        if _mtls(new, v2=False) != _mtls(old, v2=False):  # the truststore read again, or mutual TLS off
            mtls = _mtls(new, v2=False) or {}
            ops += [{"op": "replace", "path": f"/mutualTlsAuthentication/{key}", "value": mtls.get(key) or ""}
                    for key in ("truststoreUri", "truststoreVersion")]
        if ops:
            return self._applied(apigw.update_domain_name(domainName=physical, patchOperations=ops))
        return self._applied(apigw.get_domain_name(domainName=physical))

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        try:
            apigw.delete_domain_name(domainName=physical)
        except _gone(apigw):
            return


class BasePathMapping:
    """AWS::ApiGateway::BasePathMapping (no Ref value is documented: ``<domain>/<base path>``)."""

    replace_on = frozenset({"DomainName", "Id"})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        params = {"domainName": props["DomainName"], "restApiId": props["RestApiId"],
                  "basePath": props.get("BasePath") or ""}
        if props.get("Stage"):
            params["stage"] = props["Stage"]
        made = apigw.create_base_path_mapping(**params)
        physical = f"{props['DomainName']}/{made['basePath']}"
        return Applied(physical, {"Ref": physical})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        ops = [{"op": "replace", "path": path, "value": new.get(prop) or ""}
               for prop, path in (("BasePath", "/basePath"), ("RestApiId", "/restapiId"), ("Stage", "/stage"))
               if (new.get(prop) or "") != (old.get(prop) or "")]
        made = apigw.update_base_path_mapping(domainName=new["DomainName"], basePath=old.get("BasePath") or NONE,
                                              patchOperations=ops)
        physical = f"{new['DomainName']}/{made['basePath']}"
        return Applied(physical, {"Ref": physical})

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        try:
            apigw.delete_base_path_mapping(domainName=props["DomainName"], basePath=props.get("BasePath") or NONE)
        except _gone(apigw):
            return


# ------------------------------------------------------------------ private custom domain names (v1)
def _private(arn: str) -> tuple[str, str]:
    """(domain name, domain name id) of a private domain name's ARN (``…:/domainnames/<name>+<id>``)."""
    name, _, domain_id = arn.rpartition("/domainnames/")[2].partition("+")
    return name, domain_id


class PrivateDomainName:
    """AWS::ApiGateway::DomainNameV2 (a private custom domain name). Ref: its ARN; GetAtt DomainNameArn,
    DomainNameId. ``Policy``, ``CertificateArn`` and ``RoutingMode`` change in place."""

    replace_on = frozenset({"DomainName", "EndpointConfiguration", "SecurityPolicy"})

    @staticmethod
    def _applied(d: dict) -> Applied:
        return Applied(d["domainNameArn"], {"Ref": d["domainNameArn"], "DomainNameArn": d["domainNameArn"],
                                            "DomainNameId": d["domainNameId"]})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        conf = props.get("EndpointConfiguration") or {}
        params: dict = {"endpointConfiguration": {"types": conf.get("Types") or ["PRIVATE"]},
                        "policy": _policy(props.get("Policy") or "")}
        for prop, key in (("CertificateArn", "certificateArn"), ("SecurityPolicy", "securityPolicy"),
                          ("RoutingMode", "routingMode")):
            if props.get(prop):
                params[key] = props[prop]
        if conf.get("IpAddressType"):
            params["endpointConfiguration"]["ipAddressType"] = conf["IpAddressType"]
        if props.get("Tags"):
            params["tags"] = _tags(props["Tags"])
        return self._applied(apigw.create_domain_name(domainName=props["DomainName"], **params))

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        name, domain_id = _private(physical)
        ops = [{"op": "replace", "path": path, "value": value(new[prop])}
               for prop, path, value in (("Policy", "/policy", _policy), ("CertificateArn", "/certificateArn", str),
                                         ("RoutingMode", "/routingMode", str))
               if new.get(prop) and new.get(prop) != old.get(prop)]
        if ops:
            return self._applied(apigw.update_domain_name(domainName=name, domainNameId=domain_id, patchOperations=ops))
        return self._applied(apigw.get_domain_name(domainName=name, domainNameId=domain_id))

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        name, domain_id = _private(physical)
        try:
            apigw.delete_domain_name(domainName=name, domainNameId=domain_id)
        except _gone(apigw):
            return


class PrivateBasePathMapping:
    """AWS::ApiGateway::BasePathMappingV2. Ref: ``<domain name ARN>/basepathmappings/<base path>``
    (GetAtt BasePathMappingArn)."""

    replace_on = frozenset({"DomainNameArn", "BasePath"})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        name, domain_id = _private(props["DomainNameArn"])
        params = {"domainName": name, "domainNameId": domain_id, "restApiId": props["RestApiId"],
                  "basePath": props.get("BasePath") or ""}
        if props.get("Stage"):
            params["stage"] = props["Stage"]
        made = apigw.create_base_path_mapping(**params)
        arn = f"{props['DomainNameArn']}/basepathmappings/{made['basePath']}"
        return Applied(arn, {"Ref": arn, "BasePathMappingArn": arn})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        name, domain_id = _private(new["DomainNameArn"])
        ops = [{"op": "replace", "path": path, "value": new.get(prop) or ""}
               for prop, path in (("RestApiId", "/restapiId"), ("Stage", "/stage"))
               if (new.get(prop) or "") != (old.get(prop) or "")]
        apigw.update_base_path_mapping(domainName=name, domainNameId=domain_id, basePath=old.get("BasePath") or NONE,
                                       patchOperations=ops)
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        name, domain_id = _private(props["DomainNameArn"])
        try:
            apigw.delete_base_path_mapping(domainName=name, domainNameId=domain_id,
                                           basePath=props.get("BasePath") or NONE)
        except _gone(apigw):
            return


class AccessAssociation:
    """AWS::ApiGateway::DomainNameAccessAssociation. Ref: its ARN (GetAtt DomainNameAccessAssociationArn);
    every property is create-only."""

    replace_on = frozenset({"DomainNameArn", "AccessAssociationSource", "AccessAssociationSourceType", "Tags"})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        apigw = env.lamb_client("apigateway")
        params = {"domainNameArn": props["DomainNameArn"], "accessAssociationSource": props["AccessAssociationSource"],
                  "accessAssociationSourceType": props.get("AccessAssociationSourceType") or "VPCE"}
        if props.get("Tags"):
            params["tags"] = _tags(props["Tags"])
        arn = apigw.create_domain_name_access_association(**params)["domainNameAccessAssociationArn"]
        return Applied(arn, {"Ref": arn, "DomainNameAccessAssociationArn": arn})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        return Applied(physical, attrs)  # nothing changes in place

    def delete(self, env: Env, physical: str, props: dict) -> None:
        apigw = env.lamb_client("apigateway")
        try:
            apigw.delete_domain_name_access_association(domainNameAccessAssociationArn=physical)
        except _gone(apigw):
            return


# ------------------------------------------------------------------ v2
class DomainNameV2:
    """AWS::ApiGatewayV2::DomainName. Ref: the domain name; GetAtt RegionalDomainName, RegionalHostedZoneId,
    DomainNameArn."""

    replace_on = frozenset({"DomainName"})

    def _applied(self, d: dict) -> Applied:
        conf = (d.get("DomainNameConfigurations") or [{}])[0]
        return Applied(d["DomainName"], {"Ref": d["DomainName"], "DomainNameArn": d.get("DomainNameArn", ""),
                                         "RegionalDomainName": conf.get("ApiGatewayDomainName", ""),
                                         "RegionalHostedZoneId": conf.get("HostedZoneId", "")})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        params: dict = {"DomainNameConfigurations": props.get("DomainNameConfigurations") or []}
        if props.get("Tags"):
            params["Tags"] = _tags(props["Tags"])
        if props.get("RoutingMode"):
            params["RoutingMode"] = props["RoutingMode"]
        if _mtls(props, v2=True):
            params["MutualTlsAuthentication"] = _mtls(props, v2=True)
        return self._applied(v2.create_domain_name(DomainName=props["DomainName"], **params))

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        update: dict = {}
        if new.get("DomainNameConfigurations") != old.get("DomainNameConfigurations"):
            update["DomainNameConfigurations"] = new.get("DomainNameConfigurations") or []
        if _mtls(new, v2=True) != _mtls(old, v2=True):  # the truststore read again, or mutual TLS off
            update["MutualTlsAuthentication"] = _mtls(new, v2=True) or {"TruststoreUri": ""}
        if (new.get("RoutingMode") or "API_MAPPING_ONLY") != (old.get("RoutingMode") or "API_MAPPING_ONLY"):
            update["RoutingMode"] = new.get("RoutingMode") or "API_MAPPING_ONLY"
        if update:  # AWS wants the configuration on every update
            update.setdefault("DomainNameConfigurations", new.get("DomainNameConfigurations") or [])
            v2.update_domain_name(DomainName=physical, **update)
        arn = f"arn:aws:apigateway:{env.region}::/domainnames/{physical}"
        before, after = _tags(old.get("Tags")), _tags(new.get("Tags"))
        if set(before) - set(after):
            v2.untag_resource(ResourceArn=arn, TagKeys=sorted(set(before) - set(after)))
        if after and after != before:
            v2.tag_resource(ResourceArn=arn, Tags=after)
        return self._applied(v2.get_domain_name(DomainName=physical))

    def delete(self, env: Env, physical: str, props: dict) -> None:
        v2 = env.lamb_client("apigatewayv2")
        try:
            v2.delete_domain_name(DomainName=physical)
        except _gone(v2):
            return


class ApiMapping:
    """AWS::ApiGatewayV2::ApiMapping. Ref: the API mapping id."""

    replace_on = frozenset({"DomainName"})

    @staticmethod
    def _params(props: dict) -> dict:
        out = {"ApiId": props["ApiId"], "Stage": props["Stage"]}
        if props.get("ApiMappingKey"):
            out["ApiMappingKey"] = props["ApiMappingKey"]
        return out

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        made = v2.create_api_mapping(DomainName=props["DomainName"], **self._params(props))
        return Applied(made["ApiMappingId"], {"Ref": made["ApiMappingId"]})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        params = self._params(new)
        params.setdefault("ApiMappingKey", "")
        v2.update_api_mapping(DomainName=new["DomainName"], ApiMappingId=physical, **params)
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        v2 = env.lamb_client("apigatewayv2")
        try:
            v2.delete_api_mapping(DomainName=props["DomainName"], ApiMappingId=physical)
        except _gone(v2):
            return


class RoutingRule:
    """AWS::ApiGatewayV2::RoutingRule. Ref: the rule's ARN; GetAtt RoutingRuleArn, RoutingRuleId. A change of
    ``DomainNameArn`` replaces the rule; the rest is a PutRoutingRule (the id stays)."""

    replace_on = frozenset({"DomainNameArn"})

    @staticmethod
    def _domain(arn: str) -> str:
        """The domain name an ``arn:…:/domainnames/<name>`` ARN names."""
        return arn.rpartition("/domainnames/")[2]

    @staticmethod
    def _params(props: dict) -> dict:
        actions = []
        for action in props.get("Actions") or []:
            invoke = dict((action or {}).get("InvokeApi") or {})
            if "StripBasePath" in invoke:  # a template may give the boolean as a string
                invoke["StripBasePath"] = str(invoke["StripBasePath"]).lower() == "true"
            actions.append({"InvokeApi": invoke})
        return {"Priority": int(props["Priority"]), "Conditions": props.get("Conditions") or [], "Actions": actions}

    @staticmethod
    def _applied(made: dict) -> Applied:
        return Applied(made["RoutingRuleArn"], {"Ref": made["RoutingRuleArn"], "RoutingRuleArn": made["RoutingRuleArn"],
                                                "RoutingRuleId": made["RoutingRuleId"]})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        return self._applied(v2.create_routing_rule(DomainName=self._domain(props["DomainNameArn"]),
                                                    **self._params(props)))

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        v2 = env.lamb_client("apigatewayv2")
        return self._applied(v2.put_routing_rule(DomainName=self._domain(new["DomainNameArn"]),
                                                 RoutingRuleId=physical.rpartition("/")[2], **self._params(new)))

    def delete(self, env: Env, physical: str, props: dict) -> None:
        v2 = env.lamb_client("apigatewayv2")
        try:
            v2.delete_routing_rule(DomainName=self._domain(props["DomainNameArn"]),
                                   RoutingRuleId=physical.rpartition("/")[2])
        except _gone(v2):
            return


# ------------------------------------------------------------------ Route 53 (elsewhere: where configured)
def _record(rs: dict) -> dict:
    """A CloudFormation record set as Route 53's ``ResourceRecordSet``."""
    out: dict = {"Name": rs["Name"], "Type": rs["Type"]}
    if rs.get("AliasTarget"):
        alias = rs["AliasTarget"]
        out["AliasTarget"] = {"HostedZoneId": alias["HostedZoneId"], "DNSName": alias["DNSName"],
                              "EvaluateTargetHealth": bool(alias.get("EvaluateTargetHealth", False))}
    else:
        out["TTL"] = int(rs.get("TTL") or 300)
        out["ResourceRecords"] = [{"Value": v} for v in rs.get("ResourceRecords") or []]
    for key in ("SetIdentifier", "Weight", "Region", "Failover", "MultiValueAnswer", "HealthCheckId"):
        if rs.get(key) is not None:
            out[key] = rs[key]
    return out


class _Route53(abc.ABC):
    """Route 53 record sets, through the user's Route 53 (boto3's standard configuration)."""

    service = "route53"
    endpoint_variable = "AWS_ENDPOINT_URL_ROUTE_53"  # botocore's name, from the service id "Route 53"
    skip_note = ": the custom domain is still served by Host on Lamb's port"
    replace_on = frozenset({"HostedZoneId", "HostedZoneName"})

    @abc.abstractmethod
    def _sets(self, props: dict) -> list[dict]:
        """The record sets a resource's properties describe."""

    def _zone(self, client: Any, props: dict) -> str:
        if props.get("HostedZoneId"):
            return props["HostedZoneId"]
        name = props["HostedZoneName"].rstrip(".") + "."
        zones = client.list_hosted_zones_by_name(DNSName=name)["HostedZones"]
        match = [z for z in zones if z["Name"] == name]
        if not match:
            raise ValueError(f"no hosted zone named {name}")
        return match[0]["Id"].rsplit("/", 1)[-1]

    def _change(self, env: Env, props: dict, action: str, sets: list[dict]) -> None:
        if not sets:
            return
        r53 = env.service_client("route53")
        r53.change_resource_record_sets(HostedZoneId=self._zone(r53, props), ChangeBatch={
            "Changes": [{"Action": action, "ResourceRecordSet": _record(rs)} for rs in sets]})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        sets = self._sets(props)
        self._change(env, props, "CREATE", sets)
        physical = sets[0]["Name"] if sets else logical
        return Applied(physical, {"Ref": physical})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        kept = {(rs["Name"], rs["Type"]) for rs in self._sets(new)}
        self._change(env, old, "DELETE", [rs for rs in self._sets(old) if (rs["Name"], rs["Type"]) not in kept])
        self._change(env, new, "UPSERT", self._sets(new))
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        r53 = env.service_client("route53")
        try:
            self._change(env, props, "DELETE", self._sets(props))
        except r53.exceptions.InvalidChangeBatch:  # already gone
            return


class RecordSetGroup(_Route53):
    """AWS::Route53::RecordSetGroup (what SAM's ``Domain.Route53`` makes)."""

    def _sets(self, props: dict) -> list[dict]:
        return list(props.get("RecordSets") or [])


class RecordSet(_Route53):
    """AWS::Route53::RecordSet."""

    replace_on = frozenset({"HostedZoneId", "HostedZoneName", "Name", "Type"})

    def _sets(self, props: dict) -> list[dict]:
        return [props]


def register(registry: Registry) -> None:
    registry.add("AWS::ApiGateway::DomainName", DomainName())
    registry.add("AWS::ApiGateway::BasePathMapping", BasePathMapping())
    registry.add("AWS::ApiGatewayV2::DomainName", DomainNameV2())
    registry.add("AWS::ApiGatewayV2::ApiMapping", ApiMapping())
    registry.add("AWS::ApiGatewayV2::RoutingRule", RoutingRule())
    registry.add("AWS::Route53::RecordSetGroup", RecordSetGroup())
    registry.add("AWS::Route53::RecordSet", RecordSet())
    registry.add("AWS::ApiGateway::DomainNameV2", PrivateDomainName())
    registry.add("AWS::ApiGateway::BasePathMappingV2", PrivateBasePathMapping())
    registry.add("AWS::ApiGateway::DomainNameAccessAssociation", AccessAssociation())
