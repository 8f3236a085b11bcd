"""Lamb's wire protocol, derived entirely from botocore's service model.

``Protocol`` routes a request to an operation, parses and validates its input,
serializes outputs and errors as AWS's REST-JSON or ``json`` protocol does (whichever
the service's model names), so that boto3 and the AWS CLI talk to Lamb unchanged;
``registry.ServedModels`` picks the model a request is for. Operation handlers only ever see and return
plain dicts shaped like the model's input and output shapes.
"""

from botocore.model import OperationModel

from .errors import AwsError
from .protocol import Protocol, Response

#: (status, [(header name, value), ...], body) as returned by ``serialize``/``serialize_error``.
ResponseHeaders = list[tuple[str, str]]

__all__ = ["Protocol", "AwsError", "OperationModel", "Response", "ResponseHeaders"]
