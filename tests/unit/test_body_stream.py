"""http/body.py: a request body read as it arrives, with bounded buffering."""

from __future__ import annotations

import asyncio

from lamb.http.body import BodyStream


class Flow:
    def __init__(self):
        self.paused = False
        self.pauses = 0

    def pause(self):
        self.paused = True
        self.pauses += 1

    def resume(self):
        self.paused = False


def test_pieces_in_order_then_trailers():
    async def run():
        flow = Flow()
        s = BodyStream(flow.pause, flow.resume)
        s.feed(b"a")
        s.feed(b"b")
        got = []

        async def read():
            async for p in s:
                got.append(p)

        reader = asyncio.ensure_future(read())
        await asyncio.sleep(0)
        s.feed(b"c")
        s.finish({"x-t": "1"})
        await reader
        return got, s

    got, s = asyncio.run(run())
    assert got == [b"a", b"b", b"c"]
    assert s.trailers == {"x-t": "1"} and s.total == 3 and not s.aborted


def test_reading_pauses_past_high_water_and_resumes_below_low_water():
    async def run():
        flow = Flow()
        s = BodyStream(flow.pause, flow.resume, high_water=10, low_water=4)
        for _ in range(4):
            s.feed(b"xxxx")
        assert flow.paused and flow.pauses == 1
        it = s.__aiter__()
        await it.__anext__()
        await it.__anext__()
        assert flow.paused  # 8 bytes left, above low water
        await it.__anext__()
        assert not flow.paused  # 4 bytes left

    asyncio.run(run())


def test_overflow_ends_the_reader_and_drops_the_rest():
    async def run():
        s = BodyStream(lambda: None, lambda: None, max_bytes=5)
        ends = []
        s.on_end(lambda b: ends.append(b.overflow))
        s.feed(b"abc")
        s.feed(b"def")
        s.feed(b"ghi")
        return [p async for p in s], ends

    got, ends = asyncio.run(run())
    assert got == [b"abc"] and ends == [True]


def test_discard_drops_buffered_and_later_pieces_but_the_body_still_ends():
    flow = Flow()
    s = BodyStream(flow.pause, flow.resume, high_water=2)
    s.feed(b"abc")
    assert flow.paused
    s.discard()
    assert not flow.paused
    s.feed(b"more")
    assert s.take_all() == b"" and s.total == 7 and not s.ended
    s.finish({})
    assert s.ended and not s.aborted


def test_abort_wakes_the_reader():
    async def run():
        s = BodyStream(lambda: None, lambda: None)
        reader = asyncio.ensure_future(s.__anext__())
        await asyncio.sleep(0)
        s.abort()
        try:
            await reader
        except StopAsyncIteration:
            return s.aborted

    assert asyncio.run(run()) is True


def test_server_streams_a_chosen_body_with_100_continue_and_trailers():
    """HttpServer.stream_body: the app gets the request at its head, the pieces as they come."""
    from lamb.http.server import HttpServer, Response

    async def run():
        seen = []
        first_piece = asyncio.get_running_loop().create_future()

        async def app(req):
            async for piece in req.stream:
                seen.append(piece)
                if not first_piece.done():
                    first_piece.set_result(None)
            return Response(202, body=repr(req.stream.trailers).encode())

        server = HttpServer(app)
        server.stream_body = lambda req: req.path == "/stream"
        port = await server.start("127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
        assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"3\r\nabc\r\n")
        await first_piece  # the app has the first piece before the body is complete
        writer.write(b"2\r\nde\r\n0\r\nX-Err: boom\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        body = await reader.readexactly(int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0]))
        writer.close()
        server.close()
        return seen, head.split(b"\r\n")[0], body

    seen, status, body = asyncio.run(run())
    assert seen == [b"abc", b"de"]
    assert status == b"HTTP/1.1 202 Accepted"
    assert body == b"{'x-err': 'boom'}"
