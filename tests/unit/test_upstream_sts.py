from lamb.services.upstream_sts import UpstreamRoles


class FakeSts:
    """Stands in for the external STS (not a Lamb component)."""

    def __init__(self):
        self.calls = []

    def assume_role(self, **kw):
        self.calls.append(kw)
        n = len(self.calls)
        return {"Credentials": {"AccessKeyId": f"ASIA{n}", "SecretAccessKey": "s", "SessionToken": "t"}}


def test_credentials_are_reused_until_half_their_life():
    sts, now = FakeSts(), [1000.0]
    roles = UpstreamRoles(lambda: sts, 3600, clock=lambda: now[0])
    assert roles("arn:aws:iam::1:role/r", "fn")["AWS_ACCESS_KEY_ID"] == "ASIA1"
    assert roles("arn:aws:iam::1:role/r", "fn")["AWS_ACCESS_KEY_ID"] == "ASIA1"
    assert sts.calls == [{"RoleArn": "arn:aws:iam::1:role/r", "RoleSessionName": "fn", "DurationSeconds": 3600}]
    now[0] += 1801
    assert roles("arn:aws:iam::1:role/r", "fn")["AWS_ACCESS_KEY_ID"] == "ASIA2"
