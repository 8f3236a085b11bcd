"""Every AWS Lambda quota Lamb enforces, in one place.

Numbers are those of the AWS Lambda Developer Guide's quotas page
(https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
Each can be overridden with ``LAMB_LIMIT_<NAME>=<int>`` (``Settings.from_env`` applies
them through ``Limits.override``), e.g. to raise the account concurrency on a big host
or lower it in a test; code reads them from the active ``Limits`` instance, never from
literals of its own. Limits the botocore model already enforces (name and description
lengths, the ranges of MaximumRetryAttempts and MaximumEventAgeInSeconds) are not
repeated here: an override could not change them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

KB = 1024
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    # Function configuration
    memory_min_mb: int = 128
    memory_max_mb: int = 10240
    memory_default_mb: int = 128
    timeout_min_s: int = 1
    timeout_max_s: int = 900
    timeout_default_s: int = 3
    ephemeral_storage_min_mb: int = 512
    ephemeral_storage_max_mb: int = 10240
    ephemeral_storage_default_mb: int = 512
    env_vars_max_bytes: int = 4 * KB
    # A function's name (the model allows 140 characters, room for an ARN; AWS checks the name).
    function_name_max_chars: int = 64
    layers_per_function: int = 5
    tags_per_resource: int = 50
    # Resource-based policy of a layer version (AddLayerVersionPermission).
    layer_policy_max_bytes: int = 20 * KB
    # Resource-based policy of a function, version or alias (AddPermission, PutResourcePolicy).
    function_policy_max_bytes: int = 20 * KB

    # Deployment packages
    zip_direct_upload_max_bytes: int = 50 * MB
    # AWS's request-size ceiling for a direct upload (the base64 JSON body of CreateFunction).
    request_body_max_bytes: int = 70_167_211
    unzipped_code_max_bytes: int = 262_144_000
    code_storage_max_bytes: int = 75 * 1024 * MB

    # Invocation
    sync_payload_max_bytes: int = 6 * MB
    # API Gateway HTTP APIs (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html):
    # integration timeout range (default the maximum), request payload, authorizer result TTL.
    http_api_timeout_min_ms: int = 50
    http_api_timeout_max_ms: int = 30_000
    http_api_payload_max_bytes: int = 10 * MB
    http_api_authorizer_ttl_max_s: int = 3600
    # REST APIs (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html): integration
    # timeout 50 ms to 29 s by default (AWS raises the maximum on request for Regional APIs).
    rest_api_timeout_default_ms: int = 29_000
    rest_api_timeout_max_ms: int = 29_000
    # AWS accepts a response up to 6 MiB + 100 bytes (6,291,556) from the runtime.
    sync_response_max_bytes: int = 6 * MB + 100
    async_payload_max_bytes: int = 1 * MB
    # Nesting depth of an Invoke payload. AWS parses payloads with Jackson ("Could not parse
    # payload into json: … at [Source: (byte[])…"), whose StreamReadConstraints refuse a
    # document nested deeper than 1,000 levels (Jackson 2.15+; not in AWS's quotas page).
    payload_json_max_depth: int = 1000
    # Asynchronous invocation (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)
    async_retry_attempts_default: int = 2
    async_event_age_default_s: int = 21_600
    # Recursive loop detection stops a chain after this many invocations of one function
    # (https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html).
    recursion_max_invocations: int = 16
    # DLQ message attribute ErrorMessage carries the first 1 KB of the error message.
    dlq_error_message_max_bytes: int = 1 * KB
    init_timeout_s: int = 10
    log_tail_bytes: int = 4 * KB

    # Concurrency
    account_concurrency: int = 1000
    unreserved_concurrency_min: int = 100
    # Scaling rate: each function may add this many environments per window, refilled continuously.
    scaling_environments: int = 1000
    scaling_window_s: int = 10

    # Execution environment
    file_descriptors: int = 1024
    processes_threads: int = 1024
    mb_per_vcpu: int = 1769

    # API listing
    list_max_items: int = 50
    # EventBridge (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html) and
    # EventBridge Scheduler (https://docs.aws.amazon.com/scheduler/latest/UserGuide/scheduler-quotas.html)
    events_rules_per_bus: int = 300
    events_targets_per_rule: int = 5
    events_list_max_items: int = 100  # ListRules / ListTargetsByRule Limit
    scheduler_list_max_items: int = 100  # ListSchedules MaxResults
    scheduler_schedules: int = 1_000_000  # schedules per account and region

    # Stream event sources. Tumbling-window state per shard
    # (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html); records one
    # GetRecords call returns (Kinesis Data Streams and DynamoDB Streams API references).
    stream_window_state_max_bytes: int = 1 * MB
    kinesis_get_records_max: int = 10_000
    dynamodb_streams_get_records_max: int = 1_000

    def override(self, **values: int) -> "Limits":
        """A copy with some numbers replaced (unknown names are an error)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown limit(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **values)


DEFAULT = Limits()
