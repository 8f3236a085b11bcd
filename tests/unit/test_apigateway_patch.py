"""api/apigateway_patch.py: PATCH operations of UpdateRestApi and UpdateStage."""

import pytest

from lamb.api.apigateway_patch import patch_rest_api, patch_stage
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
