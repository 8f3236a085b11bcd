"""``lamb deploy`` of a SAM ``Api`` with ``Models``, an event's ``RequestModel``/``RequestParameters`` and
``GatewayResponses``: aws-sam-translator writes them into the API's definition (``definitions``,
``x-amazon-apigateway-request-validators``, ``x-amazon-apigateway-gateway-responses``), which Lamb's import
applies; the deployed API is called with curl."""

from __future__ import annotations

import json

from .conftest import unique
from .deploy_support import deploy_env, write
from .test_deploy_apis import SAM, _deploy, _outputs, curl

TEMPLATE = SAM + """
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Models:
        Pet:
          type: object
          required: [name]
          properties:
            name: {type: string}
      GatewayResponses:
        MISSING_AUTHENTICATION_TOKEN:
          StatusCode: 404
          ResponseParameters:
            Headers:
              X-Where: "'nowhere'"
          ResponseTemplates:
            application/json: '{"gone": $context.error.messageString}'
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Events:
        Post:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /pets
            Method: post
            RequestModel: {Model: Pet, Required: true, ValidateBody: true, ValidateParameters: true}
            RequestParameters:
              - method.request.querystring.q:
                  Required: true
Outputs:
  PetsUrl:
    Value: !Sub "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/Prod/pets"
"""

APP = "def handler(event, context):\n    return {'statusCode': 201, 'body': event['body']}\n"


def test_sam_models_validation_and_gateway_responses(lamb_server, tmp_path):
    write(tmp_path, {"src/app.py": APP, "template.yaml": TEMPLATE})
    env = deploy_env(lamb_server, tmp_path / "cache")
    url = _outputs(_deploy(env, tmp_path / "template.yaml", unique("validated")).stdout)["PetsUrl"]
    good = '{"name": "rex"}'
    assert curl(url + "?q=1", "-X", "POST", "-H", "Content-Type: application/json", "-d", good) == (201, good)
    status, body = curl(url, "-X", "POST", "-H", "Content-Type: application/json", "-d", good)
    assert (status, json.loads(body)) == (400, {"message": "Missing required request parameters: [q]"})
    status, body = curl(url + "?q=1", "-X", "POST", "-H", "Content-Type: application/json", "-d", '{"name": 7}')
    assert (status, json.loads(body)) == (400, {"message": "Invalid request body"})
    status, body = curl(url.replace("/pets", "/nothing"), "-D", "-")
    head, _, payload = body.partition("\n\n")
    assert status == 404 and json.loads(payload) == {"gone": "Missing Authentication Token"}
    assert "x-where: nowhere" in head.lower()
