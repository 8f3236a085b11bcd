"""``lamb deploy`` of a SAM ``AWS::Serverless::Api`` with an API cache (``CacheClusterEnabled``,
``CacheClusterSize``, ``MethodSettings`` ``CachingEnabled``/``CacheTtlInSeconds``), which SAM makes an
``AWS::ApiGateway::Stage``'s: a function answering a new value per invocation answers the same value
twice through the deployed stage; a second deploy turns the cache off and each request reaches it."""

from __future__ import annotations

import json

from .conftest import unique
from .deploy_support import deploy_env, lamb_cmd, write
from .test_deploy_apis import SAM, _outputs, curl

TEMPLATE = SAM + """
Resources:
  CachedApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: live
      CacheClusterEnabled: %(enabled)s
      CacheClusterSize: '1.6'
      MethodSettings:
        - {ResourcePath: "/*", HttpMethod: "*", CachingEnabled: true, CacheTtlInSeconds: 3600}
  Fresh:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Events:
        Get:
          Type: Api
          Properties: {RestApiId: !Ref CachedApi, Path: /value, Method: get}
Outputs:
  Url:
    Value: !Sub "https://${CachedApi}.execute-api.${AWS::Region}.amazonaws.com/live/value"
"""

APP = """import json, uuid
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"n": uuid.uuid4().hex})}
"""


def test_sam_api_cache_settings(lamb_server, tmp_path):
    write(tmp_path, {"src/app.py": APP, "template.yaml": TEMPLATE % {"enabled": "true"}})
    env = deploy_env(lamb_server, tmp_path / "cache")
    stack = unique("cachedapi")
    out = lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", stack, env=env).stdout
    url = _outputs(out)["Url"]
    api_id = url[len("http://"):].split(".", 1)[0]
    stage = lamb_server.client("apigateway").get_stage(restApiId=api_id, stageName="live")
    assert (stage["cacheClusterEnabled"], stage["cacheClusterSize"], stage["cacheClusterStatus"]) == (
        True, "1.6", "AVAILABLE")
    assert stage["methodSettings"]["*/*"]["cachingEnabled"] is True
    assert stage["methodSettings"]["*/*"]["cacheTtlInSeconds"] == 3600
    first = curl(url)
    assert first[0] == 200 and curl(url) == first  # the second answer came from the cache

    (tmp_path / "template.yaml").write_text(TEMPLATE % {"enabled": "false"})
    lamb_cmd("deploy", str(tmp_path / "template.yaml"), "--stack-name", stack, env=env)
    stage = lamb_server.client("apigateway").get_stage(restApiId=api_id, stageName="live")
    assert (stage["cacheClusterEnabled"], stage["cacheClusterStatus"]) == (False, "NOT_AVAILABLE")
    assert json.loads(curl(url)[1])["n"] != json.loads(curl(url)[1])["n"]
    lamb_cmd("deploy", "--delete", stack, env=env)
