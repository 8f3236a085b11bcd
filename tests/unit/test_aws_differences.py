"""lamb.protocol.aws_differences: the data (its use by the validator: test_protocol_validation.py)."""

from __future__ import annotations

from lamb.protocol.aws_differences import FUNCTION_RUNTIMES, MEMBER_RULES, runtime_refusal
from lamb.protocol.protocol import Protocol


def test_runtime_refusal_is_awss_text():
    assert runtime_refusal("python3.12") is None
    assert runtime_refusal("PYTHON3.9") == (
        "Value PYTHON3.9 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: "
        "[" + ", ".join(FUNCTION_RUNTIMES) + "] or be a valid ARN")


def test_rules_name_real_members_of_the_model():
    model = Protocol().service_model
    for struct, member in MEMBER_RULES:
        assert member in model.shape_for(struct).members, (struct, member)
