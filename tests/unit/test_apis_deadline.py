"""The integration timeout's answer (lamb.apis.deadline)."""

import asyncio

from lamb.apis.deadline import within
from lamb.http.server import Response


def test_result_or_timeout():
    async def run():
        loop = asyncio.get_running_loop()
        fast = loop.create_future()
        out = within(fast, 60, lambda: Response(503, [], b""), lambda f: Response(200, [], f.result()))
        fast.set_result(b"ok")
        assert (await out).body == b"ok"
        slow = loop.create_future()
        out = within(slow, 0, lambda: Response(503, [], b""), lambda f: Response(200, [], b""))
        assert (await out).status == 503
        slow.set_result(b"late")  # the invocation finishing later changes nothing
        await asyncio.sleep(0)
        assert out.result().status == 503

    asyncio.run(run())

