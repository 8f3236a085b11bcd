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


def test_fresh_says_whether_a_call_would_answer_from_the_cache():
    sts, now = FakeSts(), [1000.0]
    roles = UpstreamRoles(lambda: sts, 3600, clock=lambda: now[0])
    assert not roles.fresh("arn:aws:iam::1:role/r", "fn")
    roles("arn:aws:iam::1:role/r", "fn")
    assert roles.fresh("arn:aws:iam::1:role/r", "fn") and not roles.fresh("arn:aws:iam::1:role/r", "other")
    now[0] += 1801
    assert not roles.fresh("arn:aws:iam::1:role/r", "fn")


def test_the_invoker_fetches_upstream_credentials_off_the_event_loop():
    """An environment's start awaits ``prepare_env``: the AssumeRole runs on a worker thread, so
    the loop keeps serving while the STS answers (here the STS waits for the loop itself)."""
    import asyncio
    import threading
    from types import SimpleNamespace

    from lamb.invoke.invoker import Invoker

    answer = threading.Event()

    class WaitingSts(FakeSts):
        def assume_role(self, **kw):
            assert answer.wait(30), "the event loop was blocked by the AssumeRole call"
            return super().assume_role(**kw)

    sts = WaitingSts()
    roles = UpstreamRoles(lambda: sts, 3600)
    settings = SimpleNamespace(upstream_sts=True, function_credentials="role")
    config = SimpleNamespace(role="arn:aws:iam::1:role/r", function_name="fn")
    ahead = Invoker._credentials_ahead(SimpleNamespace(settings=settings, role_credentials=roles), config)

    async def main():
        loop = asyncio.get_running_loop()
        loop.call_soon(answer.set)  # runs only if the loop is free while AssumeRole waits
        await ahead()
        assert roles.fresh(config.role, "fn")
        await ahead()  # cached: no second call
        assert len(sts.calls) == 1

    asyncio.run(main())
    settings.upstream_sts = False  # Lamb's own in-memory sessions: nothing to fetch ahead
    assert Invoker._credentials_ahead(SimpleNamespace(settings=settings, role_credentials=roles), config) is None
