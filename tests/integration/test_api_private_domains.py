"""Private custom domain names (apis/private_domains.py) with boto3's ``apigateway`` client, the AWS CLI and curl
against a real ``lamb serve``: a request names the VPC endpoint it stands for in ``x-lamb-vpce-id``."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest

from .async_support import moto  # noqa: F401  (fixtures)
from .awscli import aws_json
from .conftest import unique
from .test_api_domains import ECHO, _code, _event, _rest_api, certificate, dserver, sam_head  # noqa: F401
from .test_api_metrics import function
from .test_deploy_apis import curl

VPCE, OTHER = "vpce-0123456789abcdef0", "vpce-0fedcba9876543210"


def test_private_domain_served_through_associated_endpoints_its_policy_allows(dserver, certificate):  # noqa: F811
    v1 = dserver.client("apigateway")
    arn = function(dserver, "priv", ECHO)
    private_api, public_api = _rest_api(dserver, arn, "PRIVATE"), _rest_api(dserver, arn)
    domain = unique("priv").lower() + ".shop.localhost"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": ["execute-api:/*"]},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": ["execute-api:/*"],
         "Condition": {"StringNotEquals": {"aws:SourceVpce": VPCE}}}]})
    with pytest.raises(botocore.exceptions.ClientError) as e:  # a private name needs a policy
        v1.create_domain_name(domainName=domain, certificateArn=certificate, endpointConfiguration={"types": ["PRIVATE"]})
    assert _code(e)[:2] == ("BadRequestException", 400)
    made = v1.create_domain_name(domainName=domain, certificateArn=certificate, securityPolicy="TLS_1_2",
                                 endpointConfiguration={"types": ["PRIVATE"]}, policy=policy)
    did = made["domainNameId"]
    assert made["domainNameArn"] == f"arn:aws:apigateway:{dserver.region}:{dserver.account_id}:/domainnames/{domain}+{did}"
    assert (made["endpointConfiguration"]["types"], made["policy"]) == (["PRIVATE"], policy)
    assert "regionalDomainName" not in made and "distributionDomainName" not in made
    with pytest.raises(botocore.exceptions.ClientError) as e:  # found by its id only
        v1.get_domain_name(domainName=domain)
    assert _code(e) == ("NotFoundException", 404, "Invalid domain name identifier specified")
    assert v1.get_domain_name(domainName=domain, domainNameId=did)["domainNameId"] == did
    assert did in {d.get("domainNameId") for d in v1.get_domain_names()["items"]}
    assert v1.get_domain_names(resourceOwner="OTHER_ACCOUNTS")["items"] == []
    assert domain not in {d["DomainName"] for d in dserver.client("apigatewayv2").get_domain_names()["Items"]}

    with pytest.raises(botocore.exceptions.ClientError) as e:  # private names map private APIs only
        v1.create_base_path_mapping(domainName=domain, domainNameId=did, restApiId=public_api, stage="live")
    assert _code(e) == ("BadRequestException", 400, "Only private APIs can be mapped to a private custom domain name.")
    v1.create_base_path_mapping(domainName=domain, domainNameId=did, restApiId=private_api, basePath="shop",
                                stage="live")
    assert [m["restApiId"] for m in v1.get_base_path_mappings(domainName=domain, domainNameId=did)["items"]] == \
        [private_api]

    base = f"http://{domain}:{dserver.port}/shop/hello"
    assert curl(base, "-H", f"x-lamb-vpce-id: {VPCE}") == (403, '{"message":"Forbidden"}')  # no association yet
    assert curl(base)[0] == 403  # no endpoint named: the name is not a public domain
    made_assoc = v1.create_domain_name_access_association(
        domainNameArn=made["domainNameArn"], accessAssociationSourceType="VPCE", accessAssociationSource=VPCE,
        tags={"team": "shop"})
    assert made_assoc["domainNameAccessAssociationArn"] == (
        f"arn:aws:apigateway:{dserver.region}:{dserver.account_id}:/domainnameaccessassociations/domainname/"
        f"{domain}+{did}/vpcesource/{VPCE}")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v1.create_domain_name_access_association(domainNameArn=made["domainNameArn"],
                                                 accessAssociationSourceType="VPCE", accessAssociationSource=VPCE)
    assert _code(e)[:2] == ("ConflictException", 409)
    event = _event(curl(base, "-H", f"x-lamb-vpce-id: {VPCE}"))
    assert (event["requestContext"]["apiId"], event["resource"], event["path"]) == (private_api, "/hello", "/shop/hello")
    # An associated endpoint the domain's policy denies.
    other = v1.create_domain_name_access_association(
        domainNameArn=made["domainNameArn"], accessAssociationSourceType="VPCE", accessAssociationSource=OTHER)
    assert curl(base, "-H", f"x-lamb-vpce-id: {OTHER}") == (403, '{"message":"Forbidden"}')
    # The policy changed (PATCH /policy): both endpoints allowed.
    open_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": ["execute-api:/*"]}]})
    v1.update_domain_name(domainName=domain, domainNameId=did,
                          patchOperations=[{"op": "replace", "path": "/policy", "value": open_policy}])
    assert _event(curl(base, "-H", f"x-lamb-vpce-id: {OTHER}"))["requestContext"]["apiId"] == private_api
    # The path fallback works the same way.
    assert _event(curl(f"{dserver.url}/_lamb/domains/{domain}/shop/hello", "-H", f"x-lamb-vpce-id: {VPCE}"))[
        "requestContext"]["apiId"] == private_api

    # Routing rules on a private name (DomainNameId) invoke private APIs only.
    v2 = dserver.client("apigatewayv2")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v2.create_routing_rule(DomainName=domain, DomainNameId=did, Priority=1, Conditions=[],
                               Actions=[{"InvokeApi": {"ApiId": public_api, "Stage": "live"}}])
    assert _code(e) == ("BadRequestException", 400, "Only private APIs can be mapped to a private custom domain name.")
    rule = v2.create_routing_rule(DomainName=domain, DomainNameId=did, Priority=1,
                                  Conditions=[{"MatchHeaders": {"AnyOf": [{"Header": "x-v", "ValueGlob": "2"}]}}],
                                  Actions=[{"InvokeApi": {"ApiId": private_api, "Stage": "live"}}])
    assert f":/domainnames/{domain}+{did}/routingrules/" in rule["RoutingRuleArn"]
    v1.update_domain_name(domainName=domain, domainNameId=did, patchOperations=[
        {"op": "replace", "path": "/routingMode", "value": "ROUTING_RULE_THEN_BASE_PATH_MAPPING"}])
    event = _event(curl(f"http://{domain}:{dserver.port}/hello", "-H", f"x-lamb-vpce-id: {VPCE}", "-H", "x-v: 2"))
    assert (event["requestContext"]["apiId"], event["resource"]) == (private_api, "/hello")

    # The AWS CLI lists, deletes; the owner rejects.
    listed = aws_json(dserver, "get-domain-name-access-associations", service="apigateway")["items"]
    mine = {a["accessAssociationSource"]: a for a in listed if a["domainNameArn"] == made["domainNameArn"]}
    assert set(mine) == {VPCE, OTHER} and mine[VPCE]["tags"] == {"team": "shop"}
    aws_json(dserver, "delete-domain-name-access-association", "--domain-name-access-association-arn",
             made_assoc["domainNameAccessAssociationArn"], service="apigateway")
    assert curl(base, "-H", f"x-lamb-vpce-id: {VPCE}") == (403, '{"message":"Forbidden"}')
    v1.reject_domain_name_access_association(domainNameAccessAssociationArn=other["domainNameAccessAssociationArn"],
                                             domainNameArn=made["domainNameArn"])
    assert curl(base, "-H", f"x-lamb-vpce-id: {OTHER}") == (403, '{"message":"Forbidden"}')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v1.delete_domain_name_access_association(domainNameAccessAssociationArn=other["domainNameAccessAssociationArn"])
    assert _code(e)[:2] == ("NotFoundException", 404)
    v1.delete_domain_name(domainName=domain, domainNameId=did)
    v1.delete_rest_api(restApiId=private_api)
    v1.delete_rest_api(restApiId=public_api)


SAM_PRIVATE = sam_head("Private", "Suffix", "Cert", "Vpce") + """  Private:
    Type: AWS::Serverless::Api
    Properties:
      StageName: live
      EndpointConfiguration: {Type: PRIVATE}
      Auth:  # a private API needs a resource policy (AWS refuses its deployment without one)
        ResourcePolicy:
          CustomStatements:
            - {Effect: Allow, Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*'}
  Domain:
    Type: AWS::ApiGateway::DomainNameV2
    Properties:
      DomainName: !Sub "private-${Suffix}.shop.localhost"
      CertificateArn: !Ref Cert
      EndpointConfiguration: {Types: [PRIVATE]}
      SecurityPolicy: TLS_1_2
      Policy:
        Version: '2012-10-17'
        Statement:
          - {Effect: Allow, Principal: '*', Action: 'execute-api:Invoke', Resource: ['execute-api:/*'],
             Condition: {StringEquals: {'aws:SourceVpce': !Ref Vpce}}}
  Mapping:
    Type: AWS::ApiGateway::BasePathMappingV2
    Properties:
      DomainNameArn: !Ref Domain
      RestApiId: !Ref Private
      Stage: !Ref Private.Stage
      BasePath: shop
  Association:
    Type: AWS::ApiGateway::DomainNameAccessAssociation
    Properties:
      DomainNameArn: !GetAtt Domain.DomainNameArn
      AccessAssociationSource: !Ref Vpce
      AccessAssociationSourceType: VPCE
Outputs:
  DomainId:
    Value: !GetAtt Domain.DomainNameId
  AssociationArn:
    Value: !Ref Association
"""


def test_private_domain_deployed(dserver, certificate, tmp_path):  # noqa: F811
    from .deploy_support import deploy_env, lamb_cmd, write

    write(tmp_path, {"app/app.py": ECHO, "template.yaml": SAM_PRIVATE})
    suffix, stack = unique("p").lower(), unique("private")
    domain = f"private-{suffix}.shop.localhost"
    env = deploy_env(dserver, tmp_path / "cache")
    out = lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", stack, "--parameter-overrides",
                   f"Suffix={suffix}", f"Cert={certificate}", f"Vpce={VPCE}", env=env).stdout
    for kind in ("DomainNameV2", "BasePathMappingV2", "DomainNameAccessAssociation"):
        assert f"CREATE_COMPLETE             AWS::ApiGateway::{kind}" in out, out
    outputs = dict(line.split()[:2] for line in out.split("Outputs:\n", 1)[1].splitlines() if line.startswith("  "))
    v1 = dserver.client("apigateway")
    got = v1.get_domain_name(domainName=domain, domainNameId=outputs["DomainId"])
    assert json.loads(got["policy"])["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceVpce": VPCE}}
    assert outputs["AssociationArn"].endswith(f"/vpcesource/{VPCE}")
    base = f"http://{domain}:{dserver.port}/shop/hello"
    event = _event(curl(base, "-H", f"x-lamb-vpce-id: {VPCE}"))
    assert (event["resource"], event["requestContext"]["stage"]) == ("/hello", "live")
    assert curl(base, "-H", f"x-lamb-vpce-id: {OTHER}") == (403, '{"message":"Forbidden"}')
    lamb_cmd("deploy", "--delete", stack, env=env)
    with pytest.raises(botocore.exceptions.ClientError):
        v1.get_domain_name(domainName=domain, domainNameId=outputs["DomainId"])
