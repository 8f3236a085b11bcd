"""apis/domains.py: custom domain names, their mapping keys and how a request picks a mapping."""

import pytest

from lamb.apis import domains as dn
from lamb.apis.store import HttpApiStore
from lamb.http.server import Request
from lamb.protocol.errors import AwsError
from lamb.store.db import Database

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


@pytest.fixture
def domains(tmp_path):
    return dn.Domains(HttpApiStore(Database(tmp_path / "db.sqlite"), "apigateway_domains"), "us-east-1")


def _req(path: str, host: str | None = None) -> Request:
    return Request("GET", path, "", {"host": host} if host else {}, b"", None)


def _regional(domains, name="api.example.com") -> dict:
    return domains.create(name, endpoint_type="REGIONAL", certificate_arn=CERT, certificate_name=None,
                          security_policy="TLS_1_2", ip_address_type=None, tags=None)


def test_names_and_keys_are_checked():
    assert dn.check_name("API.Example.com.") == "api.example.com"
    assert dn.check_name("*.example.com") == "*.example.com"
    for bad in ("", "no spaces.com", "a..b", "-a.com"):
        with pytest.raises(AwsError):
            dn.check_name(bad)
    assert dn.check_key("(none)", False) == dn.check_key("", False) == ""
    assert dn.check_key("v1/orders", True) == "v1/orders"
    for bad in ("/v1", "v1/", "a//b", "a b", "x" * 301):
        with pytest.raises(AwsError):
            dn.check_key(bad, True)
    with pytest.raises(AwsError, match="Multi-level"):
        dn.check_key("v1/orders", False)


def test_the_longest_whole_level_key_wins(domains):
    record = _regional(domains)
    for key, api in (("", "root"), ("orders", "o"), ("orders/v1/items", "o1"), ("orders/v2/items", "o2"),
                     ("orders/v2/items/categories", "o2c")):
        domains.put_mapping(record, key=key, api_id=api, stage="s")

    def to(path):
        r = dn.Domains.match(record, "api.example.com", path)
        return r.api_id, r.path

    assert to("/orders") == ("o", "/")
    assert to("/orders/v1/items/5") == ("o1", "/5")
    assert to("/orders/v2/items/categories/5") == ("o2c", "/5")
    assert to("/orders/v3/items") == ("o", "/v3/items")
    assert to("/ordersx/v1") == ("root", "/ordersx/v1")
    assert to("/") == ("root", "/")
    routed = dn.Domains.match(record, "api.example.com", "/orders/v1/items/5")
    assert routed.via == dn.Via("api.example.com", "api", "/orders/v1/items/5", "orders/v1/items")  # the key matched


def test_requests_by_host_wildcard_and_path(domains):
    assert domains.route(_req("/x", "api.example.com")) is None  # no domain at all: nothing looked up
    record = _regional(domains)
    domains.put_mapping(record, key="v1", api_id="a1", stage="prod")
    wild = _regional(domains, "*.shop.example.com")
    domains.put_mapping(wild, key="", api_id="w", stage="$default")
    assert domains.route(_req("/v1/a", "API.example.com:8443")) == \
        dn.Routed("a1", "prod", "/a", dn.Via("api.example.com", "api", "/v1/a", "v1"))
    assert domains.route(_req("/v2/a", "api.example.com")).api_id is None  # the domain's, no mapping: 403
    assert domains.route(_req("/z", "eu.shop.example.com")).via[1:4] == ("eu", "/z", "")  # the (none) mapping
    assert domains.route(_req("/z", "other.example.com")) is None
    assert domains.route(_req("/_lamb/domains/api.example.com/v1/b")) == \
        dn.Routed("a1", "prod", "/b", dn.Via("api.example.com", "api", "/v1/b", "v1"))
    assert domains.route(_req("/_lamb/domains/nope.example.com/v1/b")) is None


def test_conflicts_and_limits(domains):
    record = _regional(domains)
    domains.put_mapping(record, key="", api_id="a", stage="s")
    domains.put_mapping(record, key="v1", api_id="a", stage="s")  # regional TLS 1.2: (none) and others
    with pytest.raises(AwsError) as e:
        domains.put_mapping(record, key="v1", api_id="b", stage="s")
    assert (e.value.code, e.value.status) == ("ConflictException", 409)
    edge = domains.create("edge.example.com", endpoint_type="EDGE", certificate_arn=CERT, certificate_name=None,
                          security_policy=None, ip_address_type=None, tags=None)
    domains.put_mapping(edge, key="", api_id="a", stage=None)
    with pytest.raises(AwsError, match="Only one base path mapping"):
        domains.put_mapping(edge, key="v1", api_id="a", stage=None)
    with pytest.raises(AwsError) as e:
        _regional(domains)
    assert e.value.code == "ConflictException"
    with pytest.raises(AwsError) as e:
        domains.create("x.example.com", endpoint_type="PRIVATE", certificate_arn=CERT, certificate_name=None,
                       security_policy=None, ip_address_type=None, tags=None)
    assert e.value.code == "BadRequestException"


def test_records_survive_a_restart(tmp_path):
    first = dn.Domains(HttpApiStore(Database(tmp_path / "db.sqlite"), "apigateway_domains"), "us-east-1")
    domains = first
    record = _regional(domains)
    domains.put_mapping(record, key="v1", api_id="a1", stage="prod")
    again = dn.Domains(HttpApiStore(Database(tmp_path / "db.sqlite"), "apigateway_domains"), "us-east-1")
    assert [m["key"] for m in again.record("api.example.com")["mappings"].values()] == ["v1"]
    again.delete("API.example.com")
    with pytest.raises(AwsError, match="Invalid domain name identifier specified"):
        again.record("api.example.com")


def test_certificates(domains):
    domains.check_certificate(CERT, "REGIONAL")  # no ACM asked: a well-formed ARN is taken
    with pytest.raises(AwsError, match="A certificate was not provided for the endpoint type EDGE."):
        domains.check_certificate(None, "EDGE")
    with pytest.raises(AwsError, match="The provided certificate does not exist"):
        domains.check_certificate("not-an-arn", "REGIONAL")
    domains.certificate_exists = lambda arn: False
    with pytest.raises(AwsError, match="The provided certificate does not exist"):
        domains.check_certificate(CERT, "REGIONAL")


def test_names_lamb_answers():
    assert dn.gateway_name("d-abc", "eu-west-1") == "d-abc.execute-api.eu-west-1.localhost"
    assert dn.hosted_zone("eu-west-1", "EDGE") == "Z2FDTNDATAQYW2"
    assert dn.hosted_zone("eu-west-1", "REGIONAL") == dn.hosted_zone("eu-west-1", "REGIONAL") != \
        dn.hosted_zone("us-east-1", "REGIONAL")
    forbidden = dn.forbidden("rid")
    assert (forbidden.status, forbidden.body) == (403, b'{"message":"Forbidden"}')


def test_mapping_limits_are_data(tmp_path):
    from lamb.limits import Limits

    limits = Limits().override(api_multi_level_mappings_per_domain=1, api_mapping_key_max_chars=5)
    domains = dn.Domains(HttpApiStore(Database(tmp_path / "db.sqlite"), "apigateway_domains"), "us-east-1",
                         limits=limits)
    record = _regional(domains)
    domains.put_mapping(record, key="a/b", api_id="x", stage="s")
    with pytest.raises(AwsError) as e:
        domains.put_mapping(record, key="a/c", api_id="x", stage="s")
    assert (e.value.code, e.value.status) == ("LimitExceededException", 429)
    with pytest.raises(AwsError, match="at most 5 characters"):
        domains.put_mapping(record, key="abcdef", api_id="x", stage="s")


def test_a_mutual_tls_domain_is_served_only_to_a_verified_certificate(domains):
    """Over the plain port (no TLS connection) a mutual TLS domain's mapped path answers 403, by Host and by
    ``/_lamb/domains/``; the handshake's side is tests/unit/test_tls.py and the integration tests'."""
    mutual = {"truststoreUri": "s3://b/k", "truststoreVersion": None, "truststoreWarnings": [], "pem": "x",
              "marker": "m1"}
    record = domains.create("m.example.com", endpoint_type="REGIONAL", certificate_arn=CERT, certificate_name=None,
                            security_policy="TLS_1_2", ip_address_type=None, tags=None, mutual=mutual)
    domains.put_mapping(record, key="", api_id="a1", stage="prod")
    assert domains.route(_req("/x", "m.example.com")).api_id is None
    assert domains.route(_req(dn.PATH_PREFIX + "m.example.com/x")).api_id is None
    assert domains.tls_site("m.example.com") == ("m.example.com", "x", "m1")
    assert domains.tls_site("other.example.com") is None
    with pytest.raises(AwsError, match="only supported for REGIONAL"):
        domains.truststore("EDGE", {"truststoreUri": "s3://b/k"}, v2=False)
    with pytest.raises(AwsError, match="no S3 is configured"):
        domains.truststore("REGIONAL", {"TruststoreUri": "s3://b/k"}, v2=True)
    assert domains.truststore("REGIONAL", {"TruststoreUri": ""}, v2=True) is None


def test_routing_rules_then_mappings_by_mode(domains):
    record = _regional(domains)
    domains.put_mapping(record, key="orders", api_id="mapped", stage="s")
    rule = domains.put_rule(record, conditions=[{"MatchHeaders": {"AnyOf": [{"Header": "x-v", "ValueGlob": "2"}]}}],
                            actions=[{"InvokeApi": {"ApiId": "ruled", "Stage": "live", "StripBasePath": True}}],
                            priority=10)
    with pytest.raises(AwsError) as e:  # priorities are unique on a domain
        domains.put_rule(record, conditions=[], actions=[{"InvokeApi": {"ApiId": "x", "Stage": "s"}}], priority=10)
    assert (e.value.code, e.value.status) == ("ConflictException", 409)

    def to(path, **headers):
        req = Request("GET", path, "", {"host": "api.example.com", **headers}, b"", None)
        r = domains.route(req)
        return r.api_id, r.stage, r.path, r.via.rule_id

    assert to("/orders/1", **{"x-v": "2"}) == ("mapped", "s", "/1", "")  # API_MAPPING_ONLY: rules ignored
    domains.set_routing_mode(record, "ROUTING_RULE_THEN_API_MAPPING")
    domains.save(record)
    assert to("/orders/1", **{"x-v": "2"}) == ("ruled", "live", "/orders/1", rule["id"])
    assert to("/orders/1") == ("mapped", "s", "/1", "")
    domains.set_routing_mode(record, "ROUTING_RULE_ONLY")
    domains.save(record)
    assert to("/orders/1") == (None, None, "/orders/1", "")  # no rule matches: 403
    with pytest.raises(AwsError):
        domains.set_routing_mode(record, "SOMETIMES")
    domains.limits = domains.limits.__class__(api_routing_rules_per_domain=2)
    domains.put_rule(record, conditions=[], actions=[{"InvokeApi": {"ApiId": "x", "Stage": "s"}}], priority=20)
    with pytest.raises(AwsError) as e:
        domains.put_rule(record, conditions=[], actions=[{"InvokeApi": {"ApiId": "x", "Stage": "s"}}], priority=30)
    assert (e.value.code, e.value.status) == ("LimitExceededException", 429)
    domains.delete_rule(record, rule["id"])
    assert to("/orders/1", **{"x-v": "2"})[:3] == ("x", "s", "/orders/1")  # the catch-all left
    # Durable: a new Domains over the same database serves the same rules.
    again = dn.Domains(domains.store.__class__(domains.store.db, "apigateway_domains"), "us-east-1")
    assert again.get("api.example.com")["routingMode"] == "ROUTING_RULE_ONLY"
    assert list(again.get("api.example.com")["rules"]) == list(record["rules"])


def test_private_names_by_an_associated_endpoint_the_policy_allows(domains):
    import json
    policy = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
                                        "Resource": "execute-api:/*",
                                        "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}}]})
    public = _regional(domains, "pub.example.com")
    domains.put_mapping(public, key="", api_id="pubapi", stage="s")
    private = domains.create("api.example.com", endpoint_type="PRIVATE", certificate_arn=CERT, certificate_name=None,
                             security_policy=None, ip_address_type=None, tags=None, policy=policy)
    assert domains.get("api.example.com") is None  # not a public name
    assert domains.find("api.example.com", private["id"]) is not None
    domains.put_mapping(private, key="", api_id="privapi", stage="s")

    def to(host, vpce):
        headers = {"host": host, "x-lamb-vpce-id": vpce} if vpce else {"host": host}
        r = domains.route(Request("GET", "/x", "", headers, b"", None))
        return r and r.api_id

    assert to("api.example.com", "vpce-0123456789abcdef0") is None  # no association: 403
    private.setdefault("associations", {})["vpce-0123456789abcdef0"] = {"arn": "a"}
    private["associations"]["vpce-0fedcba9876543210"] = {"arn": "b"}
    domains.save(private)
    assert to("api.example.com", "vpce-0123456789abcdef0") == "privapi"
    assert to("api.example.com", "vpce-0fedcba9876543210") is None  # the policy denies it
    assert to("api.example.com", None) is None and domains.route(
        Request("GET", "/x", "", {"host": "api.example.com"}, b"", None)) is None  # no endpoint: not served
    assert to("pub.example.com", "vpce-0123456789abcdef0") == "pubapi"  # a public name ignores the header
