"""api/apigateway_patch.py: PATCH operations of UpdateRestApi and UpdateStage."""

import pytest

from lamb.api.apigateway_patch import patch_integration, patch_integration_response, patch_rest_api, patch_stage
from lamb.protocol.errors import AwsError


def test_rest_api_paths():
    api = {"name": "a", "binaryMediaTypes": ["image/gif"]}
    kept = "kept:".__add__  # the policy as the operation keeps it (apigateway.stored_policy)
    patch_rest_api(api, [{"op": "replace", "path": "/name", "value": "b"},
                         {"op": "add", "path": "/binaryMediaTypes/image~1png"},
                         {"op": "remove", "path": "/binaryMediaTypes/image~1gif"},
                         {"op": "replace", "path": "/minimumCompressionSize", "value": "10"},
                         {"op": "replace", "path": "/disableExecuteApiEndpoint", "value": "true"},
                         {"op": "replace", "path": "/policy", "value": "{}"}], kept)
    assert api == {"name": "b", "binaryMediaTypes": ["image/png"], "minimumCompressionSize": 10,
                   "disableExecuteApiEndpoint": True, "policy": "kept:{}"}
    patch_rest_api(api, [{"op": "replace", "path": "/policy", "value": ""}], kept)  # an empty value removes it
    assert "policy" not in api
    with pytest.raises(AwsError) as e:
        patch_rest_api(api, [{"op": "replace", "path": "/nope", "value": "x"}], kept)
    assert (e.value.code, e.value.status) == ("BadRequestException", 400)


def test_stage_paths():
    stage = {"deploymentId": "d1", "variables": {"a": "1", "b": "2"}}
    patch_stage(stage, {"d1": {}, "d2": {}}, [
        {"op": "replace", "path": "/deploymentId", "value": "d2"},
        {"op": "remove", "path": "/variables/a"}, {"op": "replace", "path": "/variables/c", "value": "3"},
        {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId"},
        {"op": "replace", "path": "/tracingEnabled", "value": "true"}])
    assert stage["deploymentId"] == "d2" and stage["variables"] == {"b": "2", "c": "3"}
    assert stage["accessLogSettings"] == {"format": "$context.requestId"} and stage["tracingEnabled"] is True
    patch_stage(stage, {}, [{"op": "remove", "path": "/accessLogSettings"}])
    assert "accessLogSettings" not in stage
    with pytest.raises(AwsError, match="Invalid deployment identifier"):
        patch_stage(stage, {"d1": {}}, [{"op": "replace", "path": "/deploymentId", "value": "zz"}])


def test_stage_method_settings_paths():
    stage = {"methodSettings": {}}
    patch_stage(stage, {}, [{"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
                            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "0.5"},
                            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "2"},
                            {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
                            {"op": "replace", "path": "/*/*/logging/dataTrace", "value": "true"}])
    assert stage["methodSettings"] == {"*/*": {
        "metricsEnabled": True, "loggingLevel": "INFO", "dataTraceEnabled": True, "throttlingBurstLimit": 2,
        "throttlingRateLimit": 0.5, "cachingEnabled": False, "cacheTtlInSeconds": 300, "cacheDataEncrypted": False,
        "requireAuthorizationForCacheControl": True, "unauthorizedCacheControlHeaderStrategy":
        "SUCCEED_WITH_RESPONSE_HEADER"}}
    # A method's own member starts from the stage's (*/*) and is kept under its key as given.
    patch_stage(stage, {}, [{"op": "replace", "path": "/~1pets~1{id}/GET/metrics/enabled", "value": "false"},
                            {"op": "replace", "path": "/~1/POST/logging/loglevel", "value": "ERROR"}])
    assert stage["methodSettings"]["~1pets~1{id}/GET"]["metricsEnabled"] is False
    assert stage["methodSettings"]["~1pets~1{id}/GET"]["throttlingRateLimit"] == 0.5
    assert stage["methodSettings"]["~1/POST"]["loggingLevel"] == "ERROR"
    patch_stage(stage, {}, [{"op": "remove", "path": "/~1/POST"}])
    assert "~1/POST" not in stage["methodSettings"]


@pytest.mark.parametrize("path, value, message", [
    ("/nothing", "x", "Invalid method setting path: /nothing. Must be one of: [/deploymentId, "),
    ("/*/*/accessLogSettings/format", "x",
     "Invalid method setting path: accessLogSettings/format. Must be one of: [.../metrics/enabled, "),
    ("/pets/ANY/caching/enabled", "true", "Invalid method setting path: /pets/ANY/caching/enabled."),
    ("/*/*/logging/loglevel", "LOUD", "Invalid logging level"),
    ("/*/*/throttling/rateLimit", "fast", "Invalid rate limit value"),
    ("/*/*/throttling/burstLimit", "1.5", "Invalid burst limit value"),
])
def test_stage_method_settings_refusals(path, value, message):
    with pytest.raises(AwsError) as e:
        patch_stage({"methodSettings": {}}, {}, [{"op": "replace", "path": path, "value": value}])
    assert e.value.code == "BadRequestException" and str(e.value.message).startswith(message), e.value.message


def test_integration_and_integration_response_paths():
    integ = {"type": "AWS", "uri": "arn:aws:apigateway:r:lambda:path/2015-03-31/functions/f/invocations",
             "requestTemplates": {"application/json": "old"}, "timeoutInMillis": 29000}
    patch_integration(integ, [
        {"op": "replace", "path": "/requestTemplates/application~1json", "value": "new"},
        {"op": "add", "path": "/requestTemplates/text~1plain", "value": "t"},
        {"op": "add", "path": "/requestParameters/integration.request.header.X-Amz-Invocation-Type", "value": "'Event'"},
        {"op": "replace", "path": "/passthroughBehavior", "value": "NEVER"},
        {"op": "replace", "path": "/timeoutInMillis", "value": "5000"}], (50, 29000))
    assert integ["requestTemplates"] == {"application/json": "new", "text/plain": "t"}
    assert integ["requestParameters"] == {"integration.request.header.X-Amz-Invocation-Type": "'Event'"}
    assert (integ["passthroughBehavior"], integ["timeoutInMillis"]) == ("NEVER", 5000)
    patch_integration(integ, [{"op": "remove", "path": "/requestTemplates/text~1plain"}], (50, 29000))
    assert integ["requestTemplates"] == {"application/json": "new"}
    for bad in ({"op": "replace", "path": "/timeoutInMillis", "value": "30000"},
                {"op": "replace", "path": "/uri", "value": "arn:aws:apigateway:us-east-1:s3:b"},
                {"op": "replace", "path": "/type", "value": "HTTP"}):
        with pytest.raises(AwsError):
            patch_integration(integ, [bad], (50, 29000))

    response = {"statusCode": "400", "selectionPattern": "Bad.*"}
    patch_integration_response(response, [
        {"op": "replace", "path": "/responseTemplates/application~1json", "value": "{}"},
        {"op": "add", "path": "/responseParameters/method.response.header.X", "value": "'y'"},
        {"op": "replace", "path": "/selectionPattern", "value": "Worse.*"}])
    assert response == {"statusCode": "400", "selectionPattern": "Worse.*", "responseTemplates": {"application/json": "{}"},
                        "responseParameters": {"method.response.header.X": "'y'"}}
    patch_integration_response(response, [{"op": "replace", "path": "/selectionPattern", "value": ""}])
    assert "selectionPattern" not in response
