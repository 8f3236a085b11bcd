"""The @connections API of WebSocket APIs (botocore's ``apigatewaymanagementapi``, signing name ``execute-api``).

https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html:
``POST /@connections/{connectionId}`` sends ``Data`` to the client (PostToConnection), ``GET`` describes
the connection (GetConnection), ``DELETE`` closes it (DeleteConnection); a connection that is closed
or never was: ``GoneException`` (410). Clients reach it at ``<ApiEndpoint>/<stage>`` (the API's Host),
at ``/_lamb/apis/<api-id>/<stage>`` on Lamb's port, or at Lamb's port itself (connection ids are
unique, so the gateway routes ``/@connections/<id>`` whichever prefix the endpoint had). Inside a
function ``AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`` names Lamb, so ``boto3.client("apigatewaymanagementapi")``
needs no ``endpoint_url``. The connections are those of the request's account and region (apis/websocket.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol.errors import AwsError
from . import operation

if TYPE_CHECKING:
    from ..apis.websocket import WsConnection
    from .context import RequestContext

SERVICE = "apigatewaymanagementapi"


def _connection(ctx: "RequestContext", connection_id: str) -> "WsConnection":
    conn = ctx.lamb.http_apis.websockets.get(connection_id)
    if conn is None:
        raise AwsError("GoneException", "", 410)  # AWS's GoneException carries no message
    return conn


@operation("PostToConnection", service=SERVICE)
def post_to_connection(ctx: "RequestContext", params: dict) -> dict:
    conn = _connection(ctx, params["ConnectionId"])
    data = params.get("Data") or b""
    if isinstance(data, str):
        data = data.encode()
    limit = ctx.lamb.settings.limits.websocket_message_max_bytes
    if len(data) > limit:
        raise AwsError("PayloadTooLargeException", f"Message payload must be at most {limit} bytes", 413)
    try:
        conn.send(data)
    except ConnectionError:
        raise AwsError("GoneException", "", 410) from None
    return {}


@operation("GetConnection", service=SERVICE)
def get_connection(ctx: "RequestContext", params: dict) -> dict:
    return _connection(ctx, params["ConnectionId"]).info()


@operation("DeleteConnection", service=SERVICE)
def delete_connection(ctx: "RequestContext", params: dict) -> dict:
    _connection(ctx, params["ConnectionId"]).close()
    return {}
