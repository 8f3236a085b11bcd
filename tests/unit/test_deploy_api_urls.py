"""deploy/api_urls.py: AWS invoke URLs in Outputs rewritten to where Lamb serves the API."""

from lamb.deploy import api_urls

AWS_REST = "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/hello/"
AWS_HTTP = "https://def456.execute-api.us-east-1.amazonaws.com/hi/x"


def test_loopback_endpoint_uses_the_host_form():
    apis = {"abc123": None, "def456": {"$default"}}
    assert api_urls.localize(AWS_REST, "http://127.0.0.1:9000", apis) == \
        "http://abc123.execute-api.us-east-1.localhost:9000/Prod/hello/"
    assert api_urls.localize([AWS_HTTP], "http://localhost:9000/", apis) == \
        ["http://def456.execute-api.us-east-1.localhost:9000/hi/x"]


def test_other_hosts_use_the_path_form_with_the_default_stage():
    apis = {"abc123": None, "def456": {"$default", "beta"}}
    assert api_urls.localize(AWS_REST, "http://lamb.lan:9000", apis) == "http://lamb.lan:9000/_lamb/apis/abc123/Prod/hello/"
    assert api_urls.localize(AWS_HTTP, "http://lamb.lan:9000", apis) == "http://lamb.lan:9000/_lamb/apis/def456/$default/hi/x"
    beta = "https://def456.execute-api.us-east-1.amazonaws.com/beta/x"
    assert api_urls.localize(beta, "http://lamb.lan:9000", apis) == "http://lamb.lan:9000/_lamb/apis/def456/beta/x"


def test_other_values_are_kept():
    assert api_urls.localize(AWS_REST, "http://127.0.0.1:9000", {}) == AWS_REST  # not this stack's API
    assert api_urls.localize(5, "http://127.0.0.1:9000", {"abc123": None}) == 5
    assert api_urls.localize("see " + AWS_REST + " now", "http://127.0.0.1:1", {"abc123": None}) == \
        "see http://abc123.execute-api.us-east-1.localhost:1/Prod/hello/ now"


def test_stack_apis_from_a_record():
    state = {"R": {"Type": "AWS::ApiGateway::RestApi", "PhysicalId": "r1", "Properties": {}},
             "H": {"Type": "AWS::ApiGatewayV2::Api", "PhysicalId": "h1", "Properties": {}},
             "S": {"Type": "AWS::ApiGatewayV2::Stage", "PhysicalId": "$default", "Properties": {"ApiId": "h1"}},
             "X": {"Type": "AWS::ApiGatewayV2::Api", "PhysicalId": "x-not-applied", "Properties": {}, "Status": "SKIPPED"}}
    assert api_urls.stack_apis(state) == {"r1": None, "h1": {"$default"}}


def test_custom_domain_urls_of_the_stack():
    domains = frozenset({"api.shop.localhost", "api.example.com"})
    assert api_urls.localize("https://api.shop.localhost/v1/x", "http://127.0.0.1:9000", {}, domains) == \
        "http://api.shop.localhost:9000/v1/x"
    assert api_urls.localize("https://api.example.com/v1/x", "http://127.0.0.1:9000", {}, domains) == \
        "http://127.0.0.1:9000/_lamb/domains/api.example.com/v1/x"
    assert api_urls.localize("https://other.example.com/x", "http://127.0.0.1:9000", {}, domains) == \
        "https://other.example.com/x"
    state = {"D": {"Type": "AWS::ApiGatewayV2::DomainName", "PhysicalId": "API.example.com", "Properties": {}},
             "S": {"Type": "AWS::ApiGateway::DomainName", "PhysicalId": "s.example.com", "Properties": {},
                   "Status": "SKIPPED"}}
    assert api_urls.stack_domains(state) == frozenset({"api.example.com"})
def test_a_websocket_api_address_becomes_ws():
    wss = "wss://ghi789.execute-api.us-east-1.amazonaws.com/prod"
    apis = {"ghi789": {"prod"}}
    assert api_urls.localize(wss, "http://127.0.0.1:9000", apis) == "ws://ghi789.execute-api.us-east-1.localhost:9000/prod"
    assert api_urls.localize(wss, "http://lamb.lan:9000", apis) == "ws://lamb.lan:9000/_lamb/apis/ghi789/prod"
    assert api_urls.localize(wss, "https://lamb.lan", apis) == "wss://lamb.lan/_lamb/apis/ghi789/prod"
