"""Who may use the operator's /_lamb/ routes (lamb.services.operator): the home root, IAM users
of the home account allowed lamb:Operate; never STS sessions or other accounts."""

import pytest

from lamb.identity.authn import Caller
from lamb.identity.store import Key
from lamb.protocol.errors import AwsError
from lamb.services.operator import OperatorGate

HOME, OTHER = "111111111111", "222222222222"
ROOT = Caller(HOME, f"arn:aws:iam::{HOME}:root", Key("AKIAROOT", "s", HOME, f"arn:aws:iam::{HOME}:root"))
USER = Caller(HOME, f"arn:aws:iam::{HOME}:user/ops", Key("AKIAUSER", "s", HOME, f"arn:aws:iam::{HOME}:user/ops", user="ops"))
SESSION = Caller(HOME, f"arn:aws:sts::{HOME}:assumed-role/admin/s",
                 Key("ASIASESSION", "s", HOME, f"arn:aws:sts::{HOME}:assumed-role/admin/s", token="t",
                     role_arn=f"arn:aws:iam::{HOME}:role/admin"))
OTHER_ROOT = Caller(OTHER, f"arn:aws:iam::{OTHER}:root", Key("AKIAOTHER", "s", OTHER, f"arn:aws:iam::{OTHER}:root"))
ALLOW = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lamb:Operate", "Resource": "*"}]}
DENY = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "lamb:*", "Resource": "*"}]}
ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def gate(caller: Caller, policies: list[dict] | None = None, enabled: bool = True) -> OperatorGate:
    return OperatorGate(lambda *a: caller, lambda key: policies or [], HOME, enabled=enabled)


def admit(g: OperatorGate) -> None:
    g.admit("GET", "/_lamb/environments", "", {}, b"")


def refusal(g: OperatorGate) -> str:
    with pytest.raises(AwsError) as e:
        admit(g)
    assert (e.value.code, e.value.status) == ("AccessDeniedException", 403)
    return e.value.message


def test_the_home_root_operates():
    admit(gate(ROOT))


def test_a_user_needs_lamb_operate_and_a_deny_wins():
    assert refusal(gate(USER)) == (f"User: arn:aws:iam::{HOME}:user/ops is not authorized to perform: lamb:Operate "
                                   "on resource: * because no identity-based policy allows the lamb:Operate action")
    admit(gate(USER, [ALLOW]))
    admit(gate(USER, [ALL]))
    assert "explicit deny" in refusal(gate(USER, [ALL, DENY]))


def test_sessions_and_other_accounts_never_operate():
    assert "only the home account's root and IAM users" in refusal(gate(SESSION, [ALL]))
    assert refusal(gate(OTHER_ROOT)).startswith(f"User: arn:aws:iam::{OTHER}:root is not authorized")


def test_authentication_errors_pass_through_and_off_admits_everyone():
    def unsigned(*a):
        raise AwsError("MissingAuthenticationTokenException", "Missing Authentication Token", 403)

    with pytest.raises(AwsError) as e:
        admit(OperatorGate(unsigned, lambda key: [], HOME, enabled=True))
    assert e.value.code == "MissingAuthenticationTokenException"
    admit(gate(OTHER_ROOT, enabled=False))


def test_a_users_permissions_boundary_caps_lamb_operate():
    boundary = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}]}
    capped = OperatorGate(lambda *a: USER, lambda key: [ALL], HOME, enabled=True, boundary_of=lambda key: [boundary])
    assert refusal(capped).endswith("because no permissions boundary allows the lamb:Operate action")
    admit(OperatorGate(lambda *a: USER, lambda key: [ALL], HOME, enabled=True, boundary_of=lambda key: [ALLOW]))
