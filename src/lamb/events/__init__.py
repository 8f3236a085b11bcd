"""Asynchronous invocation: the durable event queue, retries, destinations, loop detection.

``queue.EventQueue`` is the machine; ``journal`` its group-commit writer,
``policy`` the retry rules, ``record`` the formats destinations receive,
``destinations`` the boto3 delivery, ``lineage`` recursive loop detection and
``invoke_config`` where the per-function settings live.
"""
