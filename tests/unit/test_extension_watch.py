"""Finding an external extension's process and noticing its end (invoke/extension_watch.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

from lamb.invoke import extension_watch


def test_finds_an_extension_among_descendants_and_sees_it_end(tmp_path):
    ext = tmp_path / "opt" / "extensions" / "probe"
    ext.parent.mkdir(parents=True)
    ext.write_text("#!/bin/sh\nsleep 60\n")
    ext.chmod(0o755)
    # root (a shell) → the extension, as the environment's root process starts its extensions
    root = subprocess.Popen(["/bin/sh", "-c", f"{ext} & wait"])
    try:
        pid = None
        for _ in range(200):
            pid = extension_watch.find(root.pid, "probe")
            if pid is not None:
                break
            asyncio.run(asyncio.sleep(0.01))
        assert pid is not None and pid != root.pid
        assert extension_watch.find(root.pid, "other") is None

        async def main() -> bool:
            ended = asyncio.Event()
            stop = extension_watch.watch(pid, ended.set)
            assert stop is not None
            os.kill(pid, signal.SIGTERM)
            await asyncio.wait_for(ended.wait(), 10)
            return True

        assert asyncio.run(main())
    finally:
        root.kill()
        root.wait()


def test_a_process_already_gone_is_not_watched():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    assert extension_watch.running(os.getpid())
    for _ in range(500):  # exited, not yet reaped: a zombie has ended
        if not extension_watch.running(proc.pid):
            break
        asyncio.run(asyncio.sleep(0.01))
    assert not extension_watch.running(proc.pid)
    proc.wait()

    async def main():
        return extension_watch.watch(proc.pid, lambda: None)

    assert asyncio.run(main()) is None
