"""The zygote: a pre-initialised runtime process that execution environments fork from.

Cold starts are paid once per runtime, not once per environment (OpenLambda's
SOCK): this process starts the interpreter, imports the runtime interface
client's dependencies, then waits on a SOCK_SEQPACKET socket for ``spawn``
requests from Lamb. Each spawn forks a child that becomes one execution
environment: it applies the sandbox directives, takes the environment's
variables, and runs the official runtime interface client (``python -m
awslambdaric <handler>``), which speaks the Runtime API to Lamb. Children share
the zygote's memory copy-on-write.

Runs under the *function's* interpreter (python3.9 … python3.13), so it uses only
the standard library and Python 3.9 syntax. It must never import Lamb.

Wire format (one datagram per message, JSON):
  Lamb → zygote  {"op": "spawn", "id": n, "spec": {...}}   + SCM_RIGHTS [log_fd]
  zygote → Lamb  {"op": "spawned", "id": n, "pid": p}
                 {"op": "failed", "id": n, "error": "..."}
                 {"op": "exit", "pid": p, "code": c, "signal": s}
  Lamb → zygote  {"op": "exit"}                              (or EOF)
The zygote dies with Lamb (PR_SET_PDEATHSIG) and its children die with it.
"""

import json
import os
import resource
import signal
import socket
import sys

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15

_libc = None


def _prctl(option, arg):
    global _libc
    try:
        if _libc is None:
            import ctypes

            _libc = ctypes.CDLL(None, use_errno=True)
        _libc.prctl(option, arg, 0, 0, 0)
    except Exception:
        pass


def preload(runtime_root):
    """Import what every environment needs, so children do not pay for it.

    awslambdaric's ``bootstrap`` and ``lambda_runtime_client`` read the
    environment (log format, Runtime API address) when imported, so they are
    imported in the child; everything they depend on is imported here.
    """
    if runtime_root:
        sys.path.insert(0, runtime_root)
    import importlib  # noqa: F401
    import json  # noqa: F401
    import logging  # noqa: F401
    import time  # noqa: F401
    import traceback  # noqa: F401
    import http.client  # noqa: F401
    import decimal  # noqa: F401
    import uuid  # noqa: F401

    for mod in (
        "simplejson",
        "awslambdaric.lambda_context",
        "awslambdaric.lambda_runtime_exception",
        "awslambdaric.lambda_runtime_log_utils",
        "awslambdaric.lambda_runtime_marshaller",
        "awslambdaric.lambda_literals",
        "awslambdaric.lambda_runtime_hooks_runner",
        "awslambdaric.lambda_config",
    ):
        try:
            __import__(mod)
        except Exception:
            pass


def apply_sandbox(spec):
    """Apply the sandbox directives Lamb computed for this environment.

    The fallback (plain process) backend asks for resource limits only; the
    isolating backend adds namespaces, mounts, cgroups and credentials.
    """
    for name, (soft, hard) in spec.get("rlimits", {}).items():
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        except (ValueError, OSError, AttributeError):
            pass


def child_main(spec, log_fd, parent_pid):
    """Become an execution environment. Never returns."""
    try:
        os.setsid()
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:
            os._exit(1)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.closerange(3, 65536)
        apply_sandbox(spec)
        os.environ.clear()
        os.environ.update(spec["env"])
        os.chdir(spec["cwd"])
        sys.path[:0] = spec["sys_path"]
        # Fresh std streams on the new fds; awslambdaric wraps them unbuffered.
        sys.stdin = open(0, "r", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
        sys.argv = ["/var/runtime/bootstrap", spec["handler"]]
        from awslambdaric.__main__ import main

        main(sys.argv)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    os._exit(code)


def serve(sock):
    parent_pid = os.getpid()
    rfd, wfd = os.pipe()
    os.set_blocking(rfd, False)
    os.set_blocking(wfd, False)
    signal.set_wakeup_fd(wfd)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import select

    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    poller.register(rfd, select.POLLIN)

    def send(msg):
        try:
            sock.send(json.dumps(msg).encode())
        except OSError:
            os._exit(0)

    sock.send(json.dumps({"op": "ready", "pid": parent_pid}).encode())
    while True:
        try:
            events = poller.poll()
        except InterruptedError:
            events = []
        for fd, _ in events:
            if fd == rfd:
                try:
                    os.read(rfd, 4096)
                except BlockingIOError:
                    pass
        # Reap every child that ended, report each.
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            send({
                "op": "exit",
                "pid": pid,
                "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            })
        if not any(fd == sock.fileno() for fd, _ in events):
            continue
        try:
            data, fds, _, _ = socket.recv_fds(sock, 1 << 20, 4)
        except BlockingIOError:
            continue
        except OSError:
            os._exit(0)
        if not data:
            os._exit(0)
        msg = json.loads(data)
        if msg.get("op") == "exit":
            os._exit(0)
        if msg.get("op") != "spawn":
            continue
        log_fd = fds[0] if fds else os.open(os.devnull, os.O_WRONLY)
        try:
            pid = os.fork()
        except OSError as e:
            os.close(log_fd)
            send({"op": "failed", "id": msg["id"], "error": str(e)})
            continue
        if pid == 0:
            sock.close()
            child_main(msg["spec"], log_fd, parent_pid)
        os.close(log_fd)
        for extra in fds[1:]:
            os.close(extra)
        send({"op": "spawned", "id": msg["id"], "pid": pid})


def main():
    fd = int(sys.argv[1])
    runtime_root = sys.argv[2] if len(sys.argv) > 2 else ""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    preload(runtime_root)
    serve(sock)


if __name__ == "__main__":
    main()
