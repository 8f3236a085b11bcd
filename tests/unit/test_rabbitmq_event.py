"""lamb.sources.rabbitmq_event: the aws:rmq event, as with-mq.html shows it."""

from __future__ import annotations

import base64
import datetime as dt
import json

from lamb.sources.rabbitmq_event import Delivery, envelope_bytes, event, gson_date, payload, record, record_bytes

ARN = "arn:aws:mq:us-west-2:112556298976:broker:pizzaBroker:b-9bcfa592-423a-4942-879d-eb284b418fc8"


def test_a_record_has_the_java_clients_rendering_of_properties():
    body = b'{"timeout":0,"data":"CZrmf0Gw8Ov4bqLQxD4E"}'
    rec = record(Delivery(body, False, {
        "content_type": "text/plain", "headers": {"header1": "value1", "header2": b"value2", "numberInHeader": 10},
        "delivery_mode": 1, "priority": 34, "expiration": "60000",
        "timestamp": dt.datetime(1970, 1, 1, 0, 33, 41, tzinfo=dt.timezone.utc), "user_id": "AIDACKCEVSQ6C2EXAMPLE",
    }))
    assert rec == {
        "basicProperties": {
            "contentType": "text/plain", "contentEncoding": None,
            "headers": {"header1": {"bytes": [118, 97, 108, 117, 101, 49]},
                        "header2": {"bytes": [118, 97, 108, 117, 101, 50]}, "numberInHeader": 10},
            "deliveryMode": 1, "priority": 34, "correlationId": None, "replyTo": None, "expiration": "60000",
            "messageId": None, "timestamp": "Jan 1, 1970, 12:33:41 AM", "type": None,
            "userId": "AIDACKCEVSQ6C2EXAMPLE", "appId": None, "clusterId": None, "bodySize": len(body),
        },
        "redelivered": False,
        "data": base64.b64encode(body).decode(),
    }


def test_gson_dates_are_twelve_hour_utc():
    assert gson_date(dt.datetime(2024, 3, 5, 13, 4, 5)) == "Mar 5, 2024, 1:04:05 PM"
    assert gson_date(dt.datetime(2024, 3, 5, 12, 0, 0)) == "Mar 5, 2024, 12:00:00 PM"
    assert gson_date(dt.datetime(2024, 3, 5, 2, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))) == \
        "Mar 4, 2024, 11:00:00 PM"


def test_messages_are_listed_by_queue_and_virtual_host():
    rec = record(Delivery(b"x", True))
    assert event(ARN, "pizzaQueue", "/", [rec]) == {"eventSource": "aws:rmq", "eventSourceArn": ARN,
                                                    "rmqMessagesByQueue": {"pizzaQueue::/": [rec]}}
    assert rec["redelivered"] is True


def test_sizes_add_up_to_the_payload():
    recs = [record(Delivery(b"a" * n)) for n in (1, 10, 100)]
    assert envelope_bytes(ARN, "q", "/") + sum(record_bytes(r) for r in recs) - 1 == len(payload(ARN, "q", "/", recs))
    assert json.loads(payload(ARN, "q", "/", recs))["rmqMessagesByQueue"]["q::/"] == recs
