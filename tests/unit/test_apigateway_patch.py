"""api/apigateway_patch.py: PATCH operations of UpdateRestApi and UpdateStage."""

import pytest

from lamb.api.apigateway_patch import patch_integration, patch_integration_response, patch_rest_api, patch_stage
from lamb.protocol.errors import AwsError


def test_rest_api_paths():
    api = {"name": "a", "binaryMediaTypes": ["image/gif"]}
    patch_rest_api(api, [{"op": "replace", "path": "/name", "value": "b"},
                         {"op": "add", "path": "/binaryMediaTypes/image~1png"},
                         {"op": "remove", "path": "/binaryMediaTypes/image~1gif"},
                         {"op": "replace", "path": "/minimumCompressionSize", "value": "10"},
                         {"op": "replace", "path": "/disableExecuteApiEndpoint", "value": "true"}])
    assert api == {"name": "b", "binaryMediaTypes": ["image/png"], "minimumCompressionSize": 10,
                   "disableExecuteApiEndpoint": True}
    with pytest.raises(AwsError) as e:
        patch_rest_api(api, [{"op": "replace", "path": "/nope", "value": "x"}])
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


def test_stage_detailed_metrics_for_every_method():
    stage = {"methodSettings": {}}
    patch_stage(stage, {}, [{"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"}])
    assert stage["methodSettings"] == {"*/*": {"metricsEnabled": True}}
    patch_stage(stage, {}, [{"op": "replace", "path": "/*/*/metrics/enabled", "value": "false"}])
    assert stage["methodSettings"] == {"*/*": {"metricsEnabled": False}}
    with pytest.raises(AwsError, match="Invalid patch path"):  # other method settings are not served
        patch_stage(stage, {}, [{"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"}])


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
                {"op": "replace", "path": "/uri", "value": "arn:aws:apigateway:r:s3:path/b"},
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
