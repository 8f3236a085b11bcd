"""The policy document Lambda keeps (lamb.policy.document): rendering, Sid uniqueness,
removal and the size limit, with AWS's messages."""

from __future__ import annotations

import pytest

from lamb.policy import document as doc
from lamb.protocol.errors import AwsError


def st(sid: str, **kw) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction", "Resource": "r", **kw}


def test_render_is_compact_in_aws_order():
    d = doc.with_statement(None, st("a"), 20480)
    assert doc.render(d) == ('{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"a","Effect":"Allow",'
                             '"Principal":"*","Action":"lambda:InvokeFunction","Resource":"r"}]}')


def test_sid_unique_and_removal():
    d = doc.with_statement(doc.with_statement(None, st("a"), 20480), st("b"), 20480)
    with pytest.raises(AwsError) as e:
        doc.with_statement(d, st("a"), 20480)
    assert (e.value.code, e.value.status) == ("ResourceConflictException", 409)
    assert e.value.message == ("The statement id (a) provided already exists. Please provide a new statement id, "
                               "or remove the existing statement.")
    assert [s["Sid"] for s in doc.statements(doc.without_statement(d, "a"))] == ["b"]
    with pytest.raises(AwsError) as e:
        doc.without_statement(d, "zzz")
    assert e.value.message == "Statement zzz is not found in resource policy."
    with pytest.raises(AwsError) as e:
        doc.without_statement(None, "a")
    assert e.value.message == "No policy is associated with the given resource."


def test_single_statement_object_counts_as_a_list():
    assert doc.statements({"Statement": st("x")}) == [st("x")]


def test_size_limit():
    d = doc.with_statement(None, st("a"), 20480)
    size = len(doc.render(doc.with_statement(d, st("b"), 20480)).encode())
    with pytest.raises(AwsError) as e:
        doc.with_statement(d, st("b"), size - 1)
    assert (e.value.code, e.value.status) == ("PolicyLengthExceededException", 400)
    assert e.value.message == f"The final policy size ({size}) is bigger than the limit ({size - 1})."
