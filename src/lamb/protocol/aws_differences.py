"""Where AWS Lambda's validation answers differ from what botocore's model implies: data only.

The validator (``_input._Validators``) derives every message from the model; each entry
here changes one thing, with a note of what AWS answered (recorded responses, as in
LocalStack's AWS-validated snapshots of ``test_create_lambda_exceptions`` and
``test_layer_exceptions``, and issue 19). Nothing else in Lamb encodes such exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass

# AWS's own list of function runtimes, in AWS's order (not botocore's enum, which also lists
# retired ones). AWS answered CreateFunction with Runtime "PYTHON3.9":
# 400 InvalidParameterValueException "Value PYTHON3.9 at 'runtime' failed to satisfy constraint:
# Member must satisfy enum value set: [<this list>] or be a valid ARN" (no "1 validation error
# detected:" prefix, the value unquoted).
FUNCTION_RUNTIMES = (
    "nodejs20.x", "python3.14", "provided.al2023", "python3.12", "python3.13", "nodejs24.x", "nodejs22.x",
    "java25", "python3.10", "python3.11", "java21", "ruby3.3", "ruby3.4", "ruby3.2", "python3.8", "python3.9",
    "java17", "nodejs16.x", "dotnet10", "dotnet8", "java11", "dotnet6", "nodejs18.x", "provided.al2", "java8.al2",
)

# The runtimes layer operations accept, in AWS's order (AWS answered PublishLayerVersion with
# CompatibleRuntimes ["invalid"]: "Value '[invalid]' at 'compatibleRuntimes' failed to satisfy
# constraint: Member must satisfy enum value set: [<this list>]", a flat enum text).
LAYER_RUNTIMES = (
    "ruby3.5", "ruby2.6", "dotnetcore1.0", "python3.7", "nodejs8.10", "nasa", "ruby2.7", "python2.7-greengrass",
    "dotnetcore2.0", "python3.8", "java21", "dotnet6", "dotnetcore2.1", "python3.9", "java11", "nodejs6.10",
    "provided", "dotnetcore3.1", "dotnet8", "java25", "java17", "nodejs", "nodejs4.3", "java8.al2", "go1.x",
    "dotnet10", "nodejs20.x", "go1.9", "byol", "nodejs10.x", "provided.al2023", "nodejs22.x", "python3.10", "java8",
    "nodejs12.x", "python3.11", "nodejs24.x", "nodejs8.x", "python3.12", "nodejs14.x", "nodejs8.9", "nodejs26.x",
    "python3.13", "python3.14", "nodejs16.x", "python3.15", "provided.al2", "nodejs4.3-edge", "nodejs18.x",
    "ruby3.2", "python3.4", "ruby3.3", "ruby3.4", "ruby2.5", "python3.6", "python2.7",
)

# Enum lists AWS prints in another order than the model's (shape name -> AWS's order).
ENUM_ORDER: dict[str, tuple[str, ...]] = {
    # PutFunctionRecursionConfig RecursiveLoop "x": "... enum value set: [Terminate, Allow]"
    "RecursiveLoop": ("Terminate", "Allow"),
    # CreateFunctionUrlConfig InvokeMode "x": "... enum value set: [RESPONSE_STREAM, BUFFERED]"
    "InvokeMode": ("RESPONSE_STREAM", "BUFFERED"),
    # CreateEventSourceMapping StartingPosition "x": "... enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"
    "EventSourcePosition": ("LATEST", "AT_TIMESTAMP", "TRIM_HORIZON"),
}

# AWS adds this inside the nested constraint list of list members and map values:
# CreateFunction Architectures ["x86"]: "Value '[x86]' at 'architectures' failed to satisfy constraint:
# Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]"
MEMBER_NOT_NULL = ", Member must not be null"


@dataclass(frozen=True)
class MemberRule:
    """How one member of one request structure is validated instead of the model's way."""

    service_checked: bool = False  # the model's enum is not applied here; the API checks it
    enum: tuple[str, ...] | None = None  # the enum (and AWS's order) for a scalar or, ``flat``, a list's members
    flat: bool = False  # a list whose bad member gets "Member must satisfy enum value set: [...]" directly
    member_not_null: bool = True  # whether MEMBER_NOT_NULL is added for this list's members


MEMBER_RULES: dict[tuple[str, str], MemberRule] = {
    # Runtime is checked by the service, with the text above (lamb.api.configuration.check_runtime).
    ("CreateFunctionRequest", "Runtime"): MemberRule(service_checked=True),
    ("UpdateFunctionConfigurationRequest", "Runtime"): MemberRule(service_checked=True),
    # Layer operations check runtimes against the layer list (flat text for a list).
    ("PublishLayerVersionRequest", "CompatibleRuntimes"): MemberRule(enum=LAYER_RUNTIMES, flat=True),
    ("ListLayersRequest", "CompatibleRuntime"): MemberRule(enum=LAYER_RUNTIMES),
    ("ListLayerVersionsRequest", "CompatibleRuntime"): MemberRule(enum=LAYER_RUNTIMES),
    # PublishLayerVersion CompatibleArchitectures ["x"]: "Value '[x]' at 'compatibleArchitectures' failed
    # to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]"
    ("PublishLayerVersionRequest", "CompatibleArchitectures"): MemberRule(member_not_null=False),
}

# Requests whose violations AWS lists in the order the request gives its members (not the model's):
# PublishLayerVersion with a bad CompatibleArchitectures before a bad CompatibleRuntimes lists them so.
REQUEST_ORDER = frozenset({"PublishLayerVersionRequest"})


def enum_text(values) -> str:
    return "Member must satisfy enum value set: [" + ", ".join(values) + "]"


def runtime_refusal(value: str) -> str | None:
    """AWS's text for a function Runtime outside its list (None when AWS accepts the value)."""
    if value in FUNCTION_RUNTIMES:
        return None
    return f"Value {value} at 'runtime' failed to satisfy constraint: {enum_text(FUNCTION_RUNTIMES)} or be a valid ARN"


# The error code of a model's constraint violations where it is not ValidationException:
# CloudWatch Logs answered FilterLogEvents with limit 10001: 400 InvalidParameterException
# "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member
# must have value less than or equal to 10000".
VALIDATION_CODE: dict[str, str] = {"logs": "InvalidParameterException"}
