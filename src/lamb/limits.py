"""Every AWS Lambda quota Lamb enforces, in one place.

Numbers are those of the AWS Lambda Developer Guide's quotas page
(https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
Each can be overridden through configuration (``Limits.from_overrides``), e.g. to
raise the account concurrency on a big host or lower it in a test; code reads
them from the active ``Limits`` instance, never from literals of its own.
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
    layers_per_function: int = 5
    tags_per_resource: int = 50
    # Resource-based policy of a layer version (AddLayerVersionPermission).
    layer_policy_max_bytes: int = 20 * KB
    function_name_max: int = 64
    description_max: int = 256

    # Deployment packages
    zip_direct_upload_max_bytes: int = 50 * MB
    # AWS's request-size ceiling for a direct upload (the base64 JSON body of CreateFunction).
    request_body_max_bytes: int = 70_167_211
    unzipped_code_max_bytes: int = 262_144_000
    code_storage_max_bytes: int = 75 * 1024 * MB

    # Invocation
    sync_payload_max_bytes: int = 6 * MB
    # AWS accepts a response up to 6 MiB + 100 bytes (6,291,556) from the runtime.
    sync_response_max_bytes: int = 6 * MB + 100
    async_payload_max_bytes: int = 1 * MB
    # Asynchronous invocation (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)
    async_retry_attempts_max: int = 2
    async_retry_attempts_default: int = 2
    async_event_age_min_s: int = 60
    async_event_age_max_s: int = 21_600
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

    # Event source mappings (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html,
    # services-sqs-parameters.html)
    event_filters_per_mapping: int = 5
    sqs_fifo_batch_max: int = 10
    # A standard queue's mapping reads batches of up to this many messages per ReceiveMessage.
    sqs_receive_max: int = 10
    # SQS long polling: ReceiveMessage waits at most 20 s.
    sqs_long_poll_max_s: int = 20
    # Concurrent batches one SQS mapping may run when ScalingConfig does not say (services-sqs-scaling.html).
    sqs_mapping_concurrency_max: int = 1250
    stream_record_age_min_s: int = 60
    stream_record_age_max_s: int = 604_800

    # API listing
    list_max_items: int = 50
    # ListEventSourceMappings returns at most 100 a page (API_ListEventSourceMappings.html).
    event_source_mappings_page_max: int = 100

    def override(self, **values: int) -> "Limits":
        """A copy with some numbers replaced (unknown names are an error)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown limit(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **values)


DEFAULT = Limits()
