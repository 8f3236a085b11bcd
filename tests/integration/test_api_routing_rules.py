"""Routing rules of API Gateway custom domain names (apis/routing_rules.py, apis/domains.py) with real
clients against a real ``lamb serve``: boto3's ``apigatewayv2`` (the rules) and ``apigateway`` (the
domain's ``routingMode``, the base path mappings), the AWS CLI, and curl through the domain's name."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest

from .async_support import moto  # noqa: F401  (fixtures)
from .awscli import aws_json
from .conftest import unique, wait_for
from .test_api_domains import ECHO, _code, _event, _rest_api, certificate, dserver, sam_head, lines  # noqa: F401
from .test_api_metrics import function
from .test_deploy_apis import curl


def _rule(v2, domain, priority, api_id, *conds, strip=False):
    return v2.create_routing_rule(DomainName=domain, Priority=priority, Conditions=list(conds),
                                  Actions=[{"InvokeApi": {"ApiId": api_id, "Stage": "live", "StripBasePath": strip}}])


def _header(name, glob):
    return {"MatchHeaders": {"AnyOf": [{"Header": name, "ValueGlob": glob}]}}


def test_rules_by_priority_then_base_path_mappings(dserver, certificate):  # noqa: F811
    v1, v2 = dserver.client("apigateway"), dserver.client("apigatewayv2")
    arn = function(dserver, "rules", ECHO)
    mapped, ruled = _rest_api(dserver, arn), _rest_api(dserver, arn)
    domain = unique("rules").lower() + ".shop.localhost"
    made = v1.create_domain_name(domainName=domain, regionalCertificateArn=certificate, securityPolicy="TLS_1_2",
                                 endpointConfiguration={"types": ["REGIONAL"]},
                                 routingMode="ROUTING_RULE_THEN_BASE_PATH_MAPPING")
    assert made["routingMode"] == "ROUTING_RULE_THEN_BASE_PATH_MAPPING"  # v1's name for it
    assert v2.get_domain_name(DomainName=domain)["RoutingMode"] == "ROUTING_RULE_THEN_API_MAPPING"
    v1.create_base_path_mapping(domainName=domain, restApiId=mapped, basePath="shop", stage="live")

    beta = _rule(v2, domain, 10, ruled, _header("X-Version", "beta*"), {"MatchBasePaths": {"AnyOf": ["shop"]}},
                 strip=True)
    assert beta["Priority"] == 10 and beta["RoutingRuleArn"].endswith(f"/domainnames/{domain}/routingrules/"
                                                                      f"{beta['RoutingRuleId']}")
    assert beta["Actions"] == [{"InvokeApi": {"ApiId": ruled, "Stage": "live", "StripBasePath": True}}]
    # AWS's refusals: a priority taken, three header conditions, a restricted header, a glob's inner *,
    # an HTTP API as the target, a stage that does not exist.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        _rule(v2, domain, 10, ruled)
    assert _code(e)[:2] == ("ConflictException", 409)
    for conds in ([_header("a", "1"), _header("b", "2"), _header("c", "3")], [_header("Authorization", "x")],
                  [_header("x-v", "a*b")]):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            _rule(v2, domain, 50, ruled, *conds)
        assert _code(e)[:2] == ("BadRequestException", 400), conds
    http_api = v2.create_api(Name="rules-http", ProtocolType="HTTP", Target=arn)["ApiId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v2.create_routing_rule(DomainName=domain, Priority=50, Conditions=[],
                               Actions=[{"InvokeApi": {"ApiId": http_api, "Stage": "$default"}}])
    assert _code(e) == ("BadRequestException", 400, "Routing rules can only invoke REST APIs: WebSocket and HTTP "
                        "APIs are not supported.")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v2.create_routing_rule(DomainName=domain, Priority=50, Conditions=[],
                               Actions=[{"InvokeApi": {"ApiId": ruled, "Stage": "gone"}}])
    assert _code(e) == ("BadRequestException", 400, "Invalid stage identifier specified")

    base = f"http://{domain}:{dserver.port}"
    event = _event(curl(base + "/shop/hello", "-H", "x-version: beta-2"))  # the rule; its base path stripped
    ctx = event["requestContext"]
    assert (ctx["apiId"], event["resource"], event["path"], ctx["domainName"]) == \
        (ruled, "/hello", "/shop/hello", domain)
    event = _event(curl(base + "/shop/hello", "-H", "x-version: Beta"))  # globs are case-sensitive: the mapping
    assert (event["requestContext"]["apiId"], event["resource"]) == (mapped, "/hello")
    assert curl(base + "/hello") == (403, '{"message":"Forbidden"}')  # no rule, no mapping
    # A catch-all rule (no conditions), later in priority; nothing stripped.
    catch = _rule(v2, domain, 100, ruled)
    assert _event(curl(base + "/hello"))["requestContext"]["apiId"] == ruled
    # Rules before mappings: the catch-all takes /shop/hello whole, and its API has no /shop/hello.
    assert curl(base + "/shop/hello") == (403, '{"message":"Missing Authentication Token"}')
    # The path fallback is routed the same way.
    status, body = curl(f"{dserver.url}/_lamb/domains/{domain}/shop/hello", "-H", "x-version: beta")
    assert status == 200 and json.loads(body)["requestContext"]["apiId"] == ruled

    # The stage's access log names the rule the request matched.
    group = unique("rules-access")
    v1.update_stage(restApiId=ruled, stageName="live", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn",
         "value": f"arn:aws:logs:{dserver.region}:{dserver.account_id}:log-group:{group}"},
        {"op": "replace", "path": "/accessLogSettings/format",
         "value": "$context.requestId $context.customDomain.routingRuleIdMatched $context.path"}])
    assert curl(base + "/shop/hello", "-H", "x-version: beta")[0] == 200
    wait_for(lambda: len(lines(dserver, group)) == 1, 30, 0.1, "the access log line")
    assert lines(dserver, group)[0].split(" ")[1:] == [beta["RoutingRuleId"], "/shop/hello"]

    # The AWS CLI lists the rules by priority and replaces one (PutRoutingRule keeps its id).
    listed = aws_json(dserver, "list-routing-rules", "--domain-name", domain, service="apigatewayv2")
    assert [r["RoutingRuleId"] for r in listed["RoutingRules"]] == [beta["RoutingRuleId"], catch["RoutingRuleId"]]
    put = aws_json(dserver, "put-routing-rule", "--domain-name", domain, "--routing-rule-id", catch["RoutingRuleId"],
                   "--priority", "5", "--conditions", json.dumps([{"MatchBasePaths": {"AnyOf": ["shop"]}}]),
                   "--actions", json.dumps([{"InvokeApi": {"ApiId": mapped, "Stage": "live", "StripBasePath": True}}]),
                   service="apigatewayv2")
    assert (put["RoutingRuleId"], put["Priority"]) == (catch["RoutingRuleId"], 5)
    assert _event(curl(base + "/shop/hello", "-H", "x-version: beta"))["requestContext"]["apiId"] == mapped
    page = v2.list_routing_rules(DomainName=domain, MaxResults=1)
    assert [r["Priority"] for r in page["RoutingRules"]] == [5] and page["NextToken"]
    assert [r["Priority"] for r in v2.list_routing_rules(DomainName=domain, NextToken=page["NextToken"])
            ["RoutingRules"]] == [10]

    # ROUTING_RULE_ONLY: the mappings are no longer read.
    v2.delete_routing_rule(DomainName=domain, RoutingRuleId=catch["RoutingRuleId"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v2.get_routing_rule(DomainName=domain, RoutingRuleId=catch["RoutingRuleId"])
    assert _code(e) == ("NotFoundException", 404, "Invalid routing rule identifier specified")
    assert _event(curl(base + "/shop/hello"))["requestContext"]["apiId"] == mapped
    got = v1.update_domain_name(domainName=domain, patchOperations=[
        {"op": "replace", "path": "/routingMode", "value": "ROUTING_RULE_ONLY"}])
    assert got["routingMode"] == "ROUTING_RULE_ONLY"
    assert curl(base + "/shop/hello") == (403, '{"message":"Forbidden"}')
    assert _event(curl(base + "/shop/hello", "-H", "x-version: beta"))["requestContext"]["apiId"] == ruled
    # A domain with rules takes no mapping to an HTTP API; an API a rule invokes is not deleted.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v2.create_api_mapping(DomainName=domain, ApiId=http_api, Stage="$default", ApiMappingKey="h")
    assert _code(e)[:2] == ("BadRequestException", 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        v1.delete_rest_api(restApiId=ruled)
    assert _code(e)[:2] == ("BadRequestException", 400)
    v1.delete_domain_name(domainName=domain)
    v1.delete_rest_api(restApiId=ruled)
    v1.delete_rest_api(restApiId=mapped)
    v2.delete_api(ApiId=http_api)


SAM_RULES = sam_head("Rest", "Suffix", "Cert", "Glob") + """  Rest:
    Type: AWS::Serverless::Api
    Properties: {StageName: live}
  Domain:
    Type: AWS::ApiGateway::DomainName
    Properties:
      DomainName: !Sub "ruled-${Suffix}.shop.localhost"
      RegionalCertificateArn: !Ref Cert
      EndpointConfiguration: {Types: [REGIONAL]}
      SecurityPolicy: TLS_1_2
      RoutingMode: ROUTING_RULE_ONLY
  Rule:
    Type: AWS::ApiGatewayV2::RoutingRule
    Properties:
      DomainNameArn: !GetAtt Domain.DomainNameArn
      Priority: 20
      Conditions:
        - MatchHeaders: {AnyOf: [{Header: x-version, ValueGlob: !Ref Glob}]}
        - MatchBasePaths: {AnyOf: [shop]}
      Actions:
        - InvokeApi: {ApiId: !Ref Rest, Stage: !Ref Rest.Stage, StripBasePath: true}
Outputs:
  RuleId:
    Value: !GetAtt Rule.RoutingRuleId
  RuleArn:
    Value: !Ref Rule
"""


def test_routing_rule_deployed(dserver, certificate, tmp_path):  # noqa: F811
    from .deploy_support import deploy_env, lamb_cmd, write

    write(tmp_path, {"app/app.py": ECHO, "template.yaml": SAM_RULES})
    suffix, stack = unique("r").lower(), unique("rules")
    domain = f"ruled-{suffix}.shop.localhost"
    env = deploy_env(dserver, tmp_path / "cache")

    def deploy(glob):
        return lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", stack, "--parameter-overrides",
                        f"Suffix={suffix}", f"Cert={certificate}", f"Glob={glob}", env=env).stdout

    out = deploy("beta*")
    assert "CREATE_COMPLETE             AWS::ApiGatewayV2::RoutingRule" in out, out
    outputs = dict(line.split()[:2] for line in out.split("Outputs:\n", 1)[1].splitlines() if line.startswith("  "))
    v2 = dserver.client("apigatewayv2")
    assert v2.get_domain_name(DomainName=domain)["RoutingMode"] == "ROUTING_RULE_ONLY"
    rule = v2.get_routing_rule(DomainName=domain, RoutingRuleId=outputs["RuleId"])
    assert rule["RoutingRuleArn"] == outputs["RuleArn"] and rule["Priority"] == 20
    assert rule["Actions"][0]["InvokeApi"]["StripBasePath"] is True
    base = f"http://{domain}:{dserver.port}"
    event = _event(curl(base + "/shop/hello", "-H", "x-version: beta1"))
    assert (event["resource"], event["path"], event["requestContext"]["stage"]) == ("/hello", "/shop/hello", "live")
    assert curl(base + "/shop/hello", "-H", "x-version: gamma") == (403, '{"message":"Forbidden"}')
    # A changed condition is a PutRoutingRule: the same rule id, the new glob served.
    out = deploy("gamma")
    assert "UPDATE_COMPLETE             AWS::ApiGatewayV2::RoutingRule" in out, out
    assert [r["RoutingRuleId"] for r in v2.list_routing_rules(DomainName=domain)["RoutingRules"]] == [outputs["RuleId"]]
    assert _event(curl(base + "/shop/hello", "-H", "x-version: gamma"))["resource"] == "/hello"
    lamb_cmd("deploy", "--delete", stack, env=env)
    assert domain not in {d["DomainName"] for d in v2.get_domain_names()["Items"]}


def test_rules_and_private_names_survive_a_restart(dserver, certificate):  # noqa: F811
    """Last in this module: it restarts the module's server."""
    v1, v2 = dserver.client("apigateway"), dserver.client("apigatewayv2")
    arn = function(dserver, "durable", ECHO)
    api = _rest_api(dserver, arn)
    domain = unique("durable").lower() + ".shop.localhost"
    v1.create_domain_name(domainName=domain, regionalCertificateArn=certificate, securityPolicy="TLS_1_2",
                          endpointConfiguration={"types": ["REGIONAL"]}, routingMode="ROUTING_RULE_ONLY")
    rule = _rule(v2, domain, 3, api, _header("x-v", "*2*"))
    private = v1.create_domain_name(domainName=domain, certificateArn=certificate, securityPolicy="TLS_1_2",
                                    endpointConfiguration={"types": ["PRIVATE"]}, policy=json.dumps({"Statement": [
                                        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
                                         "Resource": "execute-api:/*"}]}))
    v1.create_domain_name_access_association(domainNameArn=private["domainNameArn"],
                                             accessAssociationSourceType="VPCE",
                                             accessAssociationSource="vpce-0123456789abcdef0")
    dserver.terminate()
    dserver.restart()
    v1, v2 = dserver.client("apigateway"), dserver.client("apigatewayv2")
    assert v2.get_domain_name(DomainName=domain)["RoutingMode"] == "ROUTING_RULE_ONLY"
    assert [r["RoutingRuleId"] for r in v2.list_routing_rules(DomainName=domain)["RoutingRules"]] == \
        [rule["RoutingRuleId"]]
    base = f"http://{domain}:{dserver.port}/hello"
    assert _event(curl(base, "-H", "x-v: v2.1"))["requestContext"]["apiId"] == api
    assert curl(base) == (403, '{"message":"Forbidden"}')
    got = v1.get_domain_name(domainName=domain, domainNameId=private["domainNameId"])
    assert got["domainNameArn"] == private["domainNameArn"]
    assert [a["accessAssociationSource"] for a in v1.get_domain_name_access_associations()["items"]
            if a["domainNameArn"] == private["domainNameArn"]] == ["vpce-0123456789abcdef0"]
