"""AWS-shaped errors.

Every failure an operation handler wants the client to see is raised as an
``AwsError``. The protocol layer turns it into AWS's REST-JSON error wire format:
the status code, an ``x-amzn-ErrorType`` header naming the error code, and a JSON
body ``{"Type": "User"|"Service", "Message": "..."}`` plus any extra members the
error shape in botocore's model declares (``Reason``, ``retryAfterSeconds`` …).
botocore reads the code from the header and the message from ``Message``, so
clients raise the same exception class with the same text AWS would produce.

Status codes come from the ``error.httpStatusCode`` of the shape in botocore's
model when the code names one of the model's error shapes; ``ValidationException``
and the handful of generic codes below are not in the Lambda model, their statuses
are the ones AWS returns.
"""

from __future__ import annotations

from typing import Any

# Codes that are not error shapes in the lambda model but that Lambda returns.
GENERIC_STATUS = {
    "ValidationException": 400,
    "UnrecognizedClientException": 403,
    "AccessDeniedException": 403,
    "UnknownOperationException": 404,
    "SerializationException": 400,
    "InternalFailure": 500,
}


class AwsError(Exception):
    """An error with AWS's code, message, status and extra body members.

    ``status`` may be left ``None``: the protocol layer then takes it from the
    error shape in the service model (or ``GENERIC_STATUS``).
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int | None = None,
        *,
        type_: str = "User",
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.type = type_
        self.headers = headers or {}
        self.fields = fields


def validation_error(violations: list[str]) -> AwsError:
    """AWS's ValidationException for one or more constraint violations.

    The message reads ``1 validation error detected: Value '0' at 'memorySize'
    failed to satisfy constraint: Member must have value greater than or equal to
    128`` and joins several violations with ``; ``.
    """
    n = len(violations)
    noun = "error" if n == 1 else "errors"
    return AwsError(
        "ValidationException",
        f"{n} validation {noun} detected: " + "; ".join(violations),
        400,
    )


# Shorthands for the errors the API raises most; each is a real Lambda error shape.
def not_found(message: str) -> AwsError:
    return AwsError("ResourceNotFoundException", message, 404)


def invalid_parameter(message: str) -> AwsError:
    return AwsError("InvalidParameterValueException", message, 400)


def conflict(message: str) -> AwsError:
    return AwsError("ResourceConflictException", message, 409)


def precondition_failed(message: str) -> AwsError:
    return AwsError("PreconditionFailedException", message, 412)


def service_error(message: str = "An internal error occurred.") -> AwsError:
    return AwsError("ServiceException", message, 500, type_="Service")


# Protocol-level errors raised by the protocol layer itself.
def invalid_request_content(detail: str) -> AwsError:
    """Lambda's error for a request body that is not the JSON the operation takes.

    Lambda answers an unparseable body with ``InvalidRequestContentException`` (a
    modeled Lambda error, HTTP 400) and a message starting ``Could not parse
    request body into json:`` followed by the parser's complaint.
    """
    return AwsError(
        "InvalidRequestContentException",
        f"Could not parse request body into json: {detail}",
        400,
    )


def serialization_error(message: str) -> AwsError:
    """A URI label, query parameter or header that cannot be read as its modeled type."""
    return AwsError("SerializationException", message, 400)


def unknown_operation() -> AwsError:
    """No operation of the model matches the request's method and path."""
    return AwsError("UnknownOperationException", "Unknown operation", 404)
