"""A resource-based policy document, as Lambda keeps and renders it.

Lambda renders every policy as compact JSON, ``{"Version":"2012-10-17","Id":"default",
"Statement":[...]}`` (GetPolicy, GetLayerVersionPolicy), and each statement added by
AddPermission / AddLayerVersionPermission is appended under a ``Sid`` that must be
unique in the document. The whole document may not exceed 20 KB
(https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html, "Function
resource-based policy"). The messages are AWS's (LocalStack's AWS-validated snapshots,
``test_lambda_api.snapshot.json``, ``TestLambdaPermissions``).

A document is a plain dict, so it is stored as JSON with the record that owns it.
"""

from __future__ import annotations

import json

from ..protocol.errors import AwsError, conflict, not_found

VERSION = "2012-10-17"
NO_POLICY = "No policy is associated with the given resource."


def empty() -> dict:
    return {"Version": VERSION, "Id": "default", "Statement": []}


def statements(document: dict | None) -> list[dict]:
    """The statements of a document (a single-statement object counts as a list of one)."""
    if not document:
        return []
    st = document.get("Statement") or []
    return [st] if isinstance(st, dict) else list(st)


def render(document: dict) -> str:
    """The document as Lambda returns it: compact JSON, members in AWS's order."""
    return compact(document)


def compact(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def with_statement(document: dict | None, statement: dict, max_bytes: int) -> dict:
    """A copy of ``document`` (or a new one) with ``statement`` appended; AWS's
    ResourceConflictException for a Sid already there and PolicyLengthExceededException
    past ``max_bytes``."""
    base = document or empty()
    require_new_sid(base, statement.get("Sid", ""))
    new = {**base, "Statement": statements(base) + [statement]}
    check_size(new, max_bytes)
    return new


def require_new_sid(document: dict | None, sid: str) -> None:
    """ResourceConflictException when ``sid`` is already a statement of ``document``."""
    if any(st.get("Sid") == sid for st in statements(document)):
        raise conflict(
            f"The statement id ({sid}) provided already exists. Please provide a new statement id, "
            "or remove the existing statement."
        )


def without_statement(document: dict | None, sid: str) -> dict:
    """A copy of ``document`` without statement ``sid``; ResourceNotFoundException when
    there is no policy or no such statement."""
    current = statements(document)
    if not current:
        raise not_found(NO_POLICY)
    kept = [st for st in current if st.get("Sid") != sid]
    if len(kept) == len(current):
        raise not_found(f"Statement {sid} is not found in resource policy.")
    return {**(document or empty()), "Statement": kept}


def check_size(document: dict, max_bytes: int) -> None:
    size = len(render(document).encode())
    if size > max_bytes:
        raise AwsError(
            "PolicyLengthExceededException", f"The final policy size ({size}) is bigger than the limit ({max_bytes}).", 400
        )


def account_principal(account: str) -> dict:
    """An account as a policy Principal: its root user's ARN."""
    return {"AWS": f"arn:aws:iam::{account}:root"}
