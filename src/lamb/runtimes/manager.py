"""Which runtimes this host can run, and one zygote for each in use.

``prepare`` resolves a runtime (find the interpreter, build its runtime root:
may take seconds the first time on a host) and starts its zygote; it runs when a
function is created or when Lamb starts with functions of that runtime, never on
the invoke path. ``zygote`` returns the running zygote, restarting it if it died.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Callable

from ..invoke.zygote import Zygote
from . import python

log = logging.getLogger("lamb.runtimes")

SUPPORTED = tuple(python.PYTHON_RUNTIMES)


class RuntimeManager:
    def __init__(self, cache: Path, on_exit: Callable[[int, "int | None", "int | None"], None]):
        self.cache = cache
        self.on_exit = on_exit
        self._zygotes: dict[str, Zygote] = {}
        self._resolved: dict[str, python.PythonRuntime] = {}
        self._errors: dict[str, str] = {}
        self._preparing: dict[str, asyncio.Future] = {}

    def error(self, runtime: str) -> str | None:
        """Why ``runtime`` cannot run here, once known."""
        return self._errors.get(runtime)

    def ready(self, runtime: str) -> bool:
        z = self._zygotes.get(runtime)
        return z is not None and not z.dead

    async def prepare(self, runtime: str) -> Zygote:
        """Resolve and start the runtime's zygote. Raises RuntimeUnavailable."""
        z = self._zygotes.get(runtime)
        if z is not None and not z.dead:
            return z
        fut = self._preparing.get(runtime)
        if fut is None:
            fut = asyncio.ensure_future(self._prepare(runtime))
            self._preparing[runtime] = fut
            fut.add_done_callback(lambda _f: self._preparing.pop(runtime, None))
        return await asyncio.shield(fut)

    async def _prepare(self, runtime: str) -> Zygote:
        try:
            resolved = self._resolved.get(runtime)
            if resolved is None:
                resolved = await asyncio.to_thread(python.resolve, runtime, self.cache)
                self._resolved[runtime] = resolved
            # Started from the event loop thread: the zygote's PR_SET_PDEATHSIG is
            # tied to the thread that forked it.
            z = Zygote(runtime, resolved.interpreter, resolved.root, self.on_exit)
            await z.start()
        except python.RuntimeUnavailable as e:
            self._errors[runtime] = str(e)
            raise
        except Exception as e:
            self._errors[runtime] = f"{runtime} failed to start: {e}"
            raise python.RuntimeUnavailable(self._errors[runtime]) from e
        self._errors.pop(runtime, None)
        self._zygotes[runtime] = z
        log.info("runtime %s ready (%s)", runtime, resolved.interpreter)
        return z

    def zygote(self, runtime: str) -> Zygote | None:
        z = self._zygotes.get(runtime)
        return z if z is not None and not z.dead else None

    def root(self, runtime: str) -> Path:
        return self._resolved[runtime].root

    def close(self) -> None:
        for z in self._zygotes.values():
            z.close()
        self._zygotes.clear()
