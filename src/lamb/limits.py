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
    # WebSocket APIs (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html#apigateway-execution-service-websocket-limits-table):
    # message payload 128 KB, frame 32 KB, idle timeout 10 minutes, connection duration 2 hours,
    # integration timeout 50 ms to 29 s (apis/websocket.py enforces each).
    websocket_message_max_bytes: int = 128 * KB
    websocket_frame_max_bytes: int = 32 * KB
    websocket_idle_timeout_s: int = 600
    websocket_connection_max_s: int = 7200
    websocket_timeout_max_ms: int = 29_000
    # REST APIs (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html): integration
    # timeout 50 ms to 29 s by default. AWS raises the maximum on request (a quota increase) for Regional
    # and private APIs, not edge-optimized ones: LAMB_LIMIT_REST_API_TIMEOUT_MAX_MS is that increase.
    rest_api_timeout_default_ms: int = 29_000
    rest_api_timeout_max_ms: int = 29_000
    # REST API caching (apis/api_cache.py): Lamb's cap on one stage's cache, in bytes of memory (AWS's
    # cacheClusterSize is 0.5 to 237 GB; the smaller of the two bounds the stage's LRU).
    api_cache_max_bytes: int = 256 * MB
    # Custom domain names' API mappings (https://docs.aws.amazon.com/apigateway/latest/developerguide/
    # rest-api-mappings.html): a key of at most 300 characters, 200 multi-level mappings per domain name.
    api_mapping_key_max_chars: int = 300
    api_multi_level_mappings_per_domain: int = 200
    # Routing rules per custom domain name (the REST API quotas table: 50 by default).
    api_routing_rules_per_domain: int = 50
    # Private custom domain names per account and Region, domain name access associations per account (same table).
    api_private_domains: int = 50
    api_domain_access_associations: int = 100
    # A mutual TLS truststore (API Gateway's quotas: up to 1,000 certificates, a 1 MB object).
    api_truststore_max_certificates: int = 1000
    api_truststore_max_bytes: int = 1 * MB
    # API keys and usage plans (same page; api-gateway-api-usage-plans.html): keys per account and Region,
    # usage plans per API key, a key's name length, usage plans per account and Region.
    api_keys_max: int = 10_000
    api_key_usage_plans_max: int = 10
    api_key_name_max_chars: int = 1024
    usage_plans_max: int = 300
    # API Gateway's account-level throttle (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html):
    # 10,000 requests per second with a burst of 5,000, over every API of the account and region
    # (apis/throttle.py); GetAccount shows it as throttleSettings, stages' method settings default to it.
    apigateway_account_rate_limit: int = 10_000
    apigateway_account_burst_limit: int = 5_000
    # Threads forwarding HTTP proxy integrations' requests at once (apis/http_proxy.py); more wait their turn
    # (each is bounded by its integration timeout).
    api_http_integration_workers: int = 64
    # Threads calling AWS services for API Gateway's AWS service integrations at once (apis/aws_services.py);
    # more wait their turn (the integration timeout bounds each wait).
    api_aws_integration_workers: int = 32
    # VPC links per account and region (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html,
    # …/http-api-quotas.html): 20 for REST APIs (v1), 10 for HTTP APIs (v2); apis/vpc_links.py.
    rest_api_vpc_links_max: int = 20
    http_api_vpc_links_max: int = 10
    # How long a private integration's resolved targets (a target group's healthy targets, a Cloud Map
    # service's instances) are reused before elbv2/Cloud Map are asked again (apis/private_targets.py).
    # A load balancer's own health checks run every 5 to 300 s, so its view is no fresher than this.
    vpc_link_targets_ttl_s: float = 5.0
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
    # Response streaming (https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html):
    # a streamed response may be 200 MB (since July 2025); its first 6 MB go uncapped, the rest at
    # most 2 MB/s (Lamb paces them, see invoke/stream.py; 0 turns the cap off).
    stream_response_max_bytes: int = 200 * MB
    stream_uncapped_bytes: int = 6 * MB
    stream_bandwidth_bytes_per_s: int = 2 * MB
    log_tail_bytes: int = 4 * KB
    # Extensions (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html):
    # at most 10 per function; Shutdown gets 2,000 ms with external extensions (the runtime's
    # share 300 ms), 500 ms with internal ones only.
    max_extensions: int = 10
    extension_shutdown_ms: int = 2000
    internal_extension_shutdown_ms: int = 500
    runtime_shutdown_share_ms: int = 300
    # Telemetry API buffering (https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api.html).
    telemetry_max_items_min: int = 25
    telemetry_max_items_max: int = 10000
    telemetry_max_items_default: int = 10000
    telemetry_max_bytes_min: int = 256 * KB
    telemetry_max_bytes_max: int = 1 * MB
    telemetry_max_bytes_default: int = 256 * KB
    telemetry_timeout_ms_min: int = 25
    telemetry_timeout_ms_max: int = 30000
    telemetry_timeout_ms_default: int = 1000

    # IAM and STS (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html,
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html)
    iam_access_keys_per_user: int = 2
    iam_policy_versions: int = 5
    iam_managed_policies_per_entity: int = 10
    iam_groups_per_user: int = 10
    iam_tags_per_entity: int = 50  # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
    sts_session_min_s: int = 900
    sts_assume_role_default_s: int = 3600
    sts_session_token_default_s: int = 43_200
    sts_session_token_max_s: int = 129_600
    # Execution-role credentials of an environment: longer than an environment lives (AWS: 12 h).
    execution_credentials_s: int = 43_200

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
    # Amazon MQ (RabbitMQ) mappings (services-mq-params.html): a batching window of 500 ms unless
    # one is set (BatchSize's 1-10,000 is the model's range; one invocation at a time per mapping).
    mq_batching_window_default_ms: int = 500

    # API listing
    list_max_items: int = 50
    # EventBridge (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html) and
    # EventBridge Scheduler (https://docs.aws.amazon.com/scheduler/latest/UserGuide/scheduler-quotas.html)
    events_rules_per_bus: int = 300
    events_targets_per_rule: int = 5
    events_list_max_items: int = 100  # ListRules / ListTargetsByRule Limit
    events_put_max_bytes: int = 262_144  # PutEvents: total entry size (eb-putevent-size.html)
    scheduler_list_max_items: int = 100  # ListSchedules MaxResults
    scheduler_schedules: int = 1_000_000  # schedules per account and region

    # Stream event sources. Tumbling-window state per shard
    # (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html); records one
    # GetRecords call returns (Kinesis Data Streams and DynamoDB Streams API references).
    stream_window_state_max_bytes: int = 1 * MB
    kinesis_get_records_max: int = 10_000
    dynamodb_streams_get_records_max: int = 1_000
    # ListEventSourceMappings returns at most 100 a page (API_ListEventSourceMappings.html).
    event_source_mappings_page_max: int = 100

    # CloudWatch Logs (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html
    # and the API reference): DescribeLogGroups/DescribeLogStreams pages, GetLogEvents and
    # FilterLogEvents pages (10,000 events or 1 MB), PutLogEvents' window for future events
    # (2 h), concurrent Live Tail sessions per account and a session's length (3 h), the
    # events one Live Tail update carries before it is sampled.
    logs_describe_max_items: int = 50
    logs_events_max_items: int = 10_000
    logs_response_max_bytes: int = 1 * MB
    logs_future_event_max_ms: int = 2 * 3600 * 1000
    logs_live_tail_sessions: int = 15
    logs_live_tail_max_s: int = 3 * 3600
    logs_live_tail_update_max_events: int = 500
    # Lamb's own bound (AWS has none; a disk has): a log group's streams beyond this many
    # bytes are deleted, least recently written first (lamb.logs.retention). 0: no bound.
    log_group_max_bytes: int = 1024 * MB
    # CloudWatch's metric API (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html):
    # datapoints one GetMetricStatistics answers, GetMetricData's default MaxDatapoints and its queries per
    # call, dimensions per metric, ExtendedStatistics per call, metrics per ListMetrics page.
    cloudwatch_statistics_datapoints_max: int = 1_440
    cloudwatch_metric_data_datapoints_max: int = 100_800
    cloudwatch_metric_data_queries_max: int = 500
    cloudwatch_dimensions_max: int = 30
    cloudwatch_extended_statistics_max: int = 10
    cloudwatch_list_metrics_page: int = 500

    def override(self, **values: int) -> "Limits":
        """A copy with some numbers replaced (unknown names are an error)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown limit(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **values)


DEFAULT = Limits()
