"""FilterCriteria encrypted with a KMSKeyArn (issue 13), KMS being moto's server.

Lamb reaches KMS through boto3's ``AWS_ENDPOINT_URL_KMS``. What is stored is only the
ciphertext; Get/Delete show the plaintext (FilterCriteriaError when KMS refuses), List shows
none, and the poller filters with the decrypted criteria."""

from __future__ import annotations

import json
import sqlite3
import urllib.request

import pytest
from botocore.exceptions import ClientError

from .async_support import running_moto, serving, sink  # noqa: F401  (fixtures)
from .conftest import create, unique, wait_for
from .esm_support import FAST_ESM_ENV, batch_fn, make_queue, moto_sqs_env, records_of, wait_state

SECRET = "very-secret-customer-id"
PATTERN = {"Filters": [{"Pattern": json.dumps({"body": {"customer": [SECRET]}})}]}


@pytest.fixture(scope="module")
def moto():
    """This module's own moto server: the test resets it to take the key away from Lamb."""
    yield from running_moto()


@pytest.fixture(scope="module")
def kms_server(moto, tmp_path_factory):
    yield from serving({**moto_sqs_env(moto), "AWS_ENDPOINT_URL_KMS": moto.url, **FAST_ESM_ENV}, tmp_path_factory,
                       "kms-server")


@pytest.fixture(scope="module")
def klam(kms_server):
    return kms_server.client()


def stored(server) -> str:
    """Everything the data folder's database holds about mappings, as text."""
    db = sqlite3.connect(server.data_dir / "lamb.db")
    try:
        return "\n".join(row[0] for row in db.execute("SELECT config FROM event_source_mappings"))
    finally:
        db.close()


def test_encrypted_filter_criteria_are_applied_shown_to_get_and_hidden_from_list(klam, kms_server, moto, sink):
    tag = unique("kms")
    key = moto.client("kms").create_key(Description="filters")["KeyMetadata"]["Arn"]
    url, arn = make_queue(moto, tag)
    create(klam, tag, batch_fn(sink, tag))
    made = klam.create_event_source_mapping(FunctionName=tag, EventSourceArn=arn, KMSKeyArn=key, FilterCriteria=PATTERN)
    uuid = made["UUID"]
    assert made["KMSKeyArn"] == key and made["FilterCriteria"] == PATTERN
    wait_state(klam, uuid, "Enabled")
    assert SECRET not in stored(kms_server)
    got = klam.get_event_source_mapping(UUID=uuid)
    assert got["FilterCriteria"] == PATTERN and "FilterCriteriaError" not in got
    listed = [c for c in klam.list_event_source_mappings(FunctionName=tag)["EventSourceMappings"]]
    assert listed[0]["UUID"] == uuid and "FilterCriteria" not in listed[0] and listed[0]["KMSKeyArn"] == key
    sqs = moto.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"customer": "someone-else", "n": 1}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"customer": SECRET, "n": 2}))
    wait_for(lambda: records_of(sink, tag), 30, 0.1, "the matching message")
    wait_for(lambda: moto.empty(url), 30, 0.1, "both messages deleted")
    assert [json.loads(r["body"])["n"] for r in records_of(sink, tag)] == [2]

    # a new pattern is encrypted again
    pattern2 = {"Filters": [{"Pattern": json.dumps({"body": {"n": [3]}})}]}
    assert klam.update_event_source_mapping(UUID=uuid, FilterCriteria=pattern2)["FilterCriteria"] == pattern2
    assert klam.get_event_source_mapping(UUID=uuid)["FilterCriteria"] == pattern2
    assert '"FilterCriteria"' not in stored(kms_server)  # only ciphertext is stored
    # a key KMS no longer has (moto's server reset; moto ignores DisableKey on Decrypt): FilterCriteriaError
    urllib.request.urlopen(urllib.request.Request(moto.url + "/moto-api/reset", method="POST"), timeout=10).read()
    got = klam.get_event_source_mapping(UUID=uuid)
    assert "FilterCriteria" not in got
    assert got["FilterCriteriaError"]["ErrorCode"].endswith("Exception") and got["FilterCriteriaError"]["Message"]
    deleted = klam.delete_event_source_mapping(UUID=uuid)
    assert deleted["State"] == "Deleting" and "FilterCriteriaError" in deleted


def test_a_key_kms_does_not_know_is_refused_at_create(klam, moto, sink):
    tag = unique("kmsbad")
    _, arn = make_queue(moto, tag)
    create(klam, tag, batch_fn(sink, tag))
    missing = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as e:
        klam.create_event_source_mapping(FunctionName=tag, EventSourceArn=arn, KMSKeyArn=missing, FilterCriteria=PATTERN)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "NotFoundException" in e.value.response["Error"]["Message"]
    assert klam.list_event_source_mappings(FunctionName=tag)["EventSourceMappings"] == []
