"""Which runtimes this host can run, and the zygotes that start their environments.

Three families (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html):

* ``python3.9`` … ``python3.13``: a zygote per runtime, under that interpreter,
  with awslambdaric's dependencies preloaded; environments are forks of it.
* ``nodejs20.x``, ``nodejs22.x``: the host's ``node`` of that major version runs
  the official Node.js runtime interface client (aws-lambda-ric) from a runtime
  root built with npm; environments exec it.
* ``provided.al2``, ``provided.al2023``: the function's own ``bootstrap`` (in the
  code or a layer) is exec'd and speaks the Runtime API itself.

Exec'd runtimes start from one small "exec" zygote (Lamb's interpreter, nothing
preloaded), so sandbox setup is shared by every family. ``prepare`` runs when a
function is created or Lamb starts, never on the invoke path.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .zygote_handle import Zygote
from . import RuntimeUnavailable, node, python
from .node import ENTRY as NODE_ENTRY

log = logging.getLogger("lamb.runtimes")

PROVIDED_RUNTIMES = ("provided.al2", "provided.al2023")
SUPPORTED = tuple(python.PYTHON_RUNTIMES) + tuple(node.NODE_RUNTIMES) + PROVIDED_RUNTIMES
EXEC_ZYGOTE = "exec"


@dataclass(frozen=True)
class Runtime:
    name: str
    family: str  # "python" | "nodejs" | "provided"
    root: Path | None  # the runtime root, seen as /var/runtime; None for provided
    zygote_key: str
    node: str | None = None  # the node binary, for nodejs
    entry: str = NODE_ENTRY  # nodejs: the bootstrap file in the root (``node.resolve``)
    python_client: str = "lamb"  # python: Lamb's transport or awslambdaric's native runtime_client
    # Its runtime client asks for the next event on the thread that posted the last answer, and waits
    # there: Node.js with Lamb's transport, awslambdaric before python3.12 (from 3.12 on it polls from
    # a new thread each time). lamb.cpus places such a runtime beside the event loop.
    polls_where_it_posts: bool = False


def resolve(name: str, cache: Path, debug: bool = False, node_client: str = "lamb",
            python_client: str = "lamb") -> tuple[Runtime, str]:
    """(runtime, zygote interpreter); blocking (may build a runtime root, and with ``debug`` its debugger).
    ``node_client``/``python_client``: how Node.js/Python runtimes reach the Runtime API ("lamb" or
    "native": ``node.resolve``, runtimes/lamb_runtime_client.py)."""
    if name in python.PYTHON_RUNTIMES:
        rt = python.resolve(name, cache)
        if debug:
            python.ensure_debugpy(name, rt.interpreter, rt.root)
        return Runtime(name, "python", rt.root, name, python_client=python_client,
                       polls_where_it_posts=python.PYTHON_RUNTIMES[name] < (3, 12)), rt.interpreter
    if name in node.NODE_RUNTIMES:
        binary, root, bootstrap = node.resolve(name, cache, node_client)
        return Runtime(name, "nodejs", root, EXEC_ZYGOTE, binary, bootstrap,
                       polls_where_it_posts=bootstrap == node.LAMB_ENTRY), sys.executable
    if name in PROVIDED_RUNTIMES:
        return Runtime(name, "provided", None, EXEC_ZYGOTE), sys.executable
    raise RuntimeUnavailable(f"unknown runtime {name}")


class RuntimeManager:
    def __init__(
        self, cache: Path, on_exit: Callable[[int, "int | None", "int | None"], None], zygote_setup,
        preload_env: Callable[[str], dict] = lambda runtime: {}, debug: bool = False, node_client: str = "lamb",
        python_client: str = "lamb",
    ):
        self.cache = cache
        self.debug = debug  # some functions run under a debugger: Python roots get debugpy
        self.node_client = node_client  # how Node.js runtimes reach the Runtime API (node.resolve)
        self.python_client = python_client  # and Python runtimes (lamb_runtime_client.py or awslambdaric's)
        self.on_exit = on_exit
        self.zygote_setup = zygote_setup  # the sandbox's view for zygotes (lamb.sandbox)
        self.preload_env = preload_env  # runtime -> variables its zygote preloads under (lamb.invoke.invoker)
        self._zygotes: dict[str, Zygote] = {}
        self._runtimes: dict[str, Runtime] = {}
        self._errors: dict[str, str] = {}
        self._preparing: dict[str, asyncio.Future] = {}
        self._interpreters: dict[str, str] = {}  # zygote key -> interpreter

    def error(self, runtime: str) -> str | None:
        """Why ``runtime`` cannot run here, once known."""
        return self._errors.get(runtime)

    def get(self, runtime: str) -> Runtime | None:
        return self._runtimes.get(runtime)

    def zygote(self, runtime: str) -> Zygote | None:
        rt = self._runtimes.get(runtime)
        if rt is None:
            return None
        z = self._zygotes.get(rt.zygote_key)
        return z if z is not None and not z.dead else None

    def ready(self, runtime: str) -> bool:
        return self.zygote(runtime) is not None

    async def prepare(self, runtime: str) -> Zygote:
        """Resolve the runtime and start its zygote. Raises RuntimeUnavailable."""
        z = self.zygote(runtime)
        if z is not None:
            return z
        fut = self._preparing.get(runtime)
        if fut is None:
            fut = asyncio.ensure_future(self._prepare(runtime))
            self._preparing[runtime] = fut
            fut.add_done_callback(lambda _f: self._preparing.pop(runtime, None))
        return await asyncio.shield(fut)

    async def wait_ready(self, runtime: str) -> bool:
        """Wait until ``runtime`` is up (or known not to run here); True when it can start environments.

        The one place that waits for a runtime: the invoke entry point
        (``lamb.services.invoke``) and function state (``lamb.services.function_state``)
        call it. Why a runtime cannot run stays in ``error(runtime)``.
        """
        try:
            await self.prepare(runtime)
        except RuntimeUnavailable:
            pass
        return self.zygote(runtime) is not None

    async def _prepare(self, runtime: str) -> Zygote:
        try:
            rt = self._runtimes.get(runtime)
            if rt is None:
                rt, interpreter = await asyncio.to_thread(resolve, runtime, self.cache, self.debug, self.node_client,
                                                         self.python_client)
            else:
                interpreter = self._interpreters[rt.zygote_key]
            z = self._zygotes.get(rt.zygote_key)
            if z is None or z.dead:
                # Started from the event loop thread: the zygote's PR_SET_PDEATHSIG is
                # tied to the thread that forked it.
                python_family = rt.family == "python"
                z = Zygote(
                    rt.zygote_key, interpreter, rt.root if python_family else None, self.on_exit, self.zygote_setup,
                    self.preload_env(runtime) if python_family else {},
                    rt.python_client if python_family else "native",
                )
                await z.start()
                self._zygotes[rt.zygote_key] = z
        except RuntimeUnavailable as e:
            self._errors[runtime] = str(e)
            raise
        except Exception as e:
            self._errors[runtime] = f"{runtime} failed to start: {e}"
            raise RuntimeUnavailable(self._errors[runtime]) from e
        self._interpreters[rt.zygote_key] = interpreter
        self._runtimes[runtime] = rt
        self._errors.pop(runtime, None)
        log.info("runtime %s ready", runtime)
        return z

    def close(self) -> None:
        for z in self._zygotes.values():
            z.close()
        self._zygotes.clear()
