"""api/apigateway_gateway_responses.py: checks of a gateway response."""

import pytest

from lamb.api.apigateway_gateway_responses import _check, _type
from lamb.protocol.errors import AwsError


def test_checks():
    assert _type({"responseType": "THROTTLED"}) == "THROTTLED"
    with pytest.raises(AwsError, match="Invalid response type"):
        _type({"responseType": "NOPE"})
    _check({"statusCode": "418", "responseParameters": {"gatewayresponse.header.A": "'1'"}})
    with pytest.raises(AwsError, match="status code"):
        _check({"statusCode": "99"})
    with pytest.raises(AwsError, match="mapping expression"):
        _check({"responseParameters": {"method.response.header.A": "'1'"}})
