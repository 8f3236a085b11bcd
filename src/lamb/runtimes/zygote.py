"""The zygote: a pre-initialised runtime process that execution environments fork from.

Cold starts are paid once per runtime, not once per environment (OpenLambda's
SOCK): this process starts the interpreter, imports the runtime interface
client (whole, when every environment shares one Runtime API address) and warms
the compiler, then waits on a SOCK_SEQPACKET socket for ``spawn`` requests from
Lamb. Each spawn forks a child that becomes one execution
environment: it applies the sandbox directives, takes the environment's
variables, and runs the official runtime interface client (``python -m
awslambdaric <handler>``), which speaks the Runtime API to Lamb. Children share
the zygote's memory copy-on-write.

Runs under the *function's* interpreter (python3.9 … python3.13), so it uses only
the standard library and Python 3.9 syntax. It must never import Lamb.

Wire format (one datagram per message, JSON):
  zygote → Lamb  {"op": "hello", "pid": p, "prefix": ..., "exec_prefix": ...}
  Lamb → zygote  {"op": "setup", "mounts": [...], "runtime_root": "...", "env": {...}, "init_exec": path,
                  "seccomp": base64 BPF}
  zygote → Lamb  {"op": "ready"}                              (or "setup_failed")
  Lamb → zygote  {"op": "spawn", "id": n, "spec": {...}}   + SCM_RIGHTS [log_fd, *spec.sandbox.fds]
                 (the environment's network namespace, its /tmp filesystem as a detached mount)
  zygote → Lamb  {"op": "spawned", "id": n, "pid": p}
                 {"op": "failed", "id": n, "error": "..."}
                 {"op": "exit", "pid": p, "code": c, "signal": s}
  Lamb → zygote  {"op": "end", "pid": p}    end the PID namespace of an environment with external
                                            extensions (kept past its runtime for their Shutdown)
  Lamb → zygote  {"op": "exit"}                              (or EOF)
The zygote dies with Lamb (PR_SET_PDEATHSIG, as SIGTERM so that it first thaws
frozen environments) and its children die with it.
"""

import fcntl
import json
import os
import resource
import signal
import socket
import sys

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15

_LIBC = None


def _libc():
    global _LIBC
    if _LIBC is None:
        import ctypes

        _LIBC = ctypes.CDLL(None, use_errno=True)
    return _LIBC


def _prctl(option, arg):
    try:
        _libc().prctl(option, arg, 0, 0, 0)
    except Exception:
        pass


# Modules that read per-function variables when imported: preloaded without them
# and imported again in an environment whose variables set them (awslambdaric's
# bootstrap reads the log format and level of the function's logging config).
ENV_SENSITIVE = {"awslambdaric.bootstrap": ("AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL")}
_PRELOADED_ENV = {}


def preload(runtime_root, env, runtime_client="native"):
    """Import what every environment needs, so children do not pay for it.

    ``env`` holds the variables that are the same in every environment of this
    zygote (AWS_EXECUTION_ENV, and AWS_LAMBDA_RUNTIME_API when all environments
    share one Runtime API address). With the address known, awslambdaric is
    imported whole: its native ``runtime_client`` reads the address once, when
    it is loaded, and ``lambda_runtime_client`` initialises it on import.
    Without it only their dependencies are (and the C++ library the native
    client links to). With ``runtime_client`` "lamb", Lamb's transport
    (``lamb_runtime_client`` in the runtime root) is ``runtime_client`` before
    awslambdaric imports it: the native module is never loaded.
    """
    if runtime_root:
        sys.path.insert(0, runtime_root)
    if runtime_client == "lamb" and runtime_root:
        import lamb_runtime_client

        lamb_runtime_client.install()
    for names in ENV_SENSITIVE.values():
        for name in names:
            os.environ.pop(name, None)
    os.environ.update(env)
    _PRELOADED_ENV.update(env)
    import importlib  # noqa: F401
    import json  # noqa: F401
    import logging  # noqa: F401
    import time  # noqa: F401
    import traceback  # noqa: F401
    import http.client  # noqa: F401
    import decimal  # noqa: F401
    import uuid  # noqa: F401

    try:
        import ctypes

        for lib in ("libstdc++.so.6", "libgcc_s.so.1"):
            ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
    except OSError:
        pass
    modules = [
        "simplejson",
        "awslambdaric.lambda_context",
        "awslambdaric.lambda_runtime_exception",
        "awslambdaric.lambda_runtime_log_utils",
        "awslambdaric.lambda_runtime_marshaller",
        "awslambdaric.lambda_literals",
        "awslambdaric.lambda_runtime_hooks_runner",
        "awslambdaric.lambda_config",
    ]
    if env.get("AWS_LAMBDA_RUNTIME_API"):
        modules.append("awslambdaric.__main__")
    for mod in modules:
        try:
            __import__(mod)
        except Exception:
            pass
    # On python3.12+ awslambdaric polls /next from a worker thread; its client imports
    # ThreadPoolExecutor when it is created (~4 ms in an environment).
    config = sys.modules.get("awslambdaric.lambda_config")
    polling_envs = getattr(getattr(config, "LambdaConfigProvider", None), "SUPPORTED_THREADPOLLING_ENVS", ())
    if env.get("AWS_EXECUTION_ENV") in polling_envs:
        try:
            import concurrent.futures.thread  # noqa: F401
        except Exception:
            pass
    # The first compile() of a function in a process initialises the compiler's lazy state:
    # ~1.7 ms and ~150 page faults in every environment (a handler in /var/task is compiled
    # from source: the folder is read-only, so no .pyc). Done once here, children share it.
    compile(_WARM_SOURCE, "<lamb-warm-up>", "exec")


_WARM_SOURCE = """
import os
class C(object):
    x: int = 1
    def m(self, *a, k=None, **kw):
        return [i for i in a if i], {k: v for k, v in kw.items()}, lambda y: y
async def h(event, context):
    try:
        with open(os.devnull) as f:
            return f"{event!r}" if event else None
    except (OSError, ValueError) as e:
        raise RuntimeError(str(e)) from e
    finally:
        pass
"""


def adopt_preloaded(env):
    """In an environment: make the preloaded modules what importing them under ``env`` gives.

    Returns an error message when that is impossible (the native client was
    loaded for another Runtime API address), else None.
    """
    if "awslambdaric.lambda_runtime_client" in sys.modules:
        for name in ("AWS_LAMBDA_RUNTIME_API", "AWS_EXECUTION_ENV"):
            if env.get(name) != _PRELOADED_ENV.get(name):
                return "zygote preloaded for %s=%r, environment has %r" % (name, _PRELOADED_ENV.get(name), env.get(name))
    for mod, names in ENV_SENSITIVE.items():
        if mod in sys.modules and any(env.get(n) for n in names):
            import importlib

            importlib.reload(sys.modules[mod])
    return None


# ----------------------------------------------------------------- sandbox
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
_NS_FLAGS = {"mnt": CLONE_NEWNS, "uts": CLONE_NEWUTS, "ipc": CLONE_NEWIPC, "pid": CLONE_NEWPID, "net": CLONE_NEWNET}
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
_SYS_MOVE_MOUNT = {"x86_64": 429, "aarch64": 429}
AT_FDCWD = -100
MOVE_MOUNT_F_EMPTY_PATH = 4


_SYS_CLONE = {"x86_64": 56, "aarch64": 220}


def clone_into(namespaces):
    """fork() into new namespaces at once: the child is PID 1 of its own PID namespace.

    os.fork cannot pass clone flags, so this is a raw clone(2) wrapped in
    CPython's documented fork hooks (PyOS_BeforeFork / PyOS_AfterFork_*), the
    same ones os.fork uses. No waiter process is needed outside the namespace.
    """
    import ctypes

    flags = 0
    for n in namespaces:
        flags |= _NS_FLAGS[n]
    nr = _SYS_CLONE.get(os.uname().machine)
    if nr is None:
        raise OSError(0, "clone: unsupported machine")
    libc = ctypes.PyDLL(None, use_errno=True)  # keeps the GIL held across the call, like os.fork
    libc.syscall.restype = ctypes.c_long
    api = ctypes.pythonapi
    api.PyOS_BeforeFork()
    pid = libc.syscall(ctypes.c_long(nr), ctypes.c_ulong(flags | signal.SIGCHLD), None, None, None, None)
    if pid == 0:
        api.PyOS_AfterFork_Child()
        return 0
    err = ctypes.get_errno()
    api.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, "clone: %s" % os.strerror(err))
    return pid


def _check(ret, what):
    if ret != 0:
        import ctypes

        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))


def _mount(source, target, fstype, flags, data):
    libc = _libc()
    _check(
        libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() if data else None,
        ),
        "mount %s" % target,
    )


def _run_mount_plan(plan):
    """Execute mount steps computed by Lamb (lamb.sandbox.linux).

    Steps: private (stop propagation to and from the host), tmpfs, bind
    (optionally read-only), mkdir, touch, symlink, proc, pivot (the old root
    stays reachable at ``keep``), detach (a lazy recursive unmount).
    """
    for step in plan:
        op = step["op"]
        if op == "private":
            _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
        elif op == "detach":
            _check(_libc().umount2(step["path"].encode(), MNT_DETACH), "umount %s" % step["path"])
        elif op == "tmpfs":
            _mount("tmpfs", step["target"], "tmpfs", MS_NOSUID | MS_NODEV, step.get("options", ""))
        elif op == "mkdir":
            os.makedirs(step["path"], mode=step.get("mode", 0o755), exist_ok=True)
            os.chmod(step["path"], step.get("mode", 0o755))
        elif op == "touch":
            open(step["path"], "a").close()
        elif op == "symlink":
            os.symlink(step["target"], step["path"])
        elif op == "bind":
            flags = MS_BIND | (MS_REC if step.get("recursive") else 0)
            _mount(step["source"], step["target"], None, flags, None)
            if step.get("ro"):
                _mount(None, step["target"], None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None)
        elif op == "proc":
            _mount("proc", step["target"], "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
        elif op == "attach":
            _attach(step["fd"], step["target"])
        elif op == "pivot":
            root, keep = step["root"], step["keep"]
            os.makedirs(root + keep, exist_ok=True)
            nr = _SYS_PIVOT_ROOT.get(os.uname().machine)
            if nr is None:
                raise OSError(0, "pivot_root: unsupported machine")
            os.chdir(root)
            _check(_libc().syscall(nr, b".", ("." + keep).encode()), "pivot_root")
            os.chdir("/")
        else:
            raise ValueError("unknown mount step %r" % op)


def apply_limits(spec):
    """Resource limits and cgroup membership (before namespaces, as root)."""
    for name, (soft, hard) in spec.get("rlimits", {}).items():
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        except (ValueError, OSError, AttributeError):
            pass
    for path in spec.get("cgroup_procs", ()):
        # os-level calls: a Python file object costs ~0.2 ms here (fresh io objects, copied pages).
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, b"0")  # "0": the writing process itself
        finally:
            os.close(fd)


def enter_namespaces(spec):
    """Unshare the namespaces clone_into did not already create (those without a PID namespace)."""
    names = [n for n in (spec.get("unshare") or []) if n != "pid"]
    if not names or spec.get("cloned"):
        return
    flags = 0
    for n in names:
        flags |= _NS_FLAGS[n]
    _check(_libc().unshare(flags), "unshare")


_STATUS_FD = [-1]


def become_init(subreaper=False, linger=False):
    """The environment's init: fork the runtime, reap every orphan, mirror the runtime's end.

    On AWS the runtime is not PID 1; orphaned grandchildren are reaped by the
    sandbox's init. This does the same, so zombies never pile up against the
    process quota. Returns only in the runtime process.

    ``subreaper`` (no PID namespace): orphans are adopted through
    PR_SET_CHILD_SUBREAPER, and SIGTERM — from Lamb, or as the parent-death
    signal when the zygote dies — kills every descendant, so nothing the
    function started outlives its environment.

    ``linger`` (external extensions): SIGUSR1 is Lamb's Shutdown phase. The runtime gets
    SIGTERM, and its end no longer ends the environment: the init hands the runtime's status
    on and goes on reaping while the extensions work on their SHUTDOWN event, until the last
    one is gone or Lamb kills the environment at the deadline.
    """
    shutting_down = []
    if subreaper:
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    _set_oom_score_adj(-1000)
    import gc

    gc.disable()  # the init allocates almost nothing; never walk (and so copy) the zygote's objects
    runtime = os.fork()
    if runtime == 0:
        gc.enable()
        _set_oom_score_adj(0)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if _STATUS_FD[0] >= 0:
            os.close(_STATUS_FD[0])
        return
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, _f: os.kill(runtime, s))
    if subreaper:
        signal.signal(signal.SIGTERM, lambda *_: _kill_descendants(os.getpid()))
    if linger:
        def shutdown(*_):
            shutting_down.append(True)
            try:
                os.kill(runtime, signal.SIGTERM)
            except OSError:
                pass

        signal.signal(signal.SIGUSR1, shutdown)
    runtime_ended = False
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(0 if runtime_ended else 1)
        if pid == runtime:
            if shutting_down:
                # Shutdown phase: the extensions outlive the runtime (their SHUTDOWN event).
                runtime_ended = True
                try:
                    os.write(_STATUS_FD[0], str(status).encode())
                except OSError:
                    pass
                continue
            if subreaper:
                # The runtime may end before the SIGTERM that says the zygote is gone is handled
                # (awslambdaric exits when Lamb's Runtime API disappears): what it started still
                # must not outlive the environment.
                _kill_descendants(os.getpid())
            # PID 1 cannot die by its own signal: hand the runtime's raw wait status to the zygote.
            try:
                os.write(_STATUS_FD[0], str(status).encode())
            except OSError:
                pass
            os._exit(0)


def _kill_descendants(root):
    """SIGKILL every process below ``root`` (read from /proc; repeated while they fork)."""
    for _ in range(5):
        children = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry, "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
        found, todo = [], [root]
        while todo:
            for child in children.get(todo.pop(), ()):
                found.append(child)
                todo.append(child)
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


_PROC = ["/proc"]  # the host's /proc as this process sees it (``host_proc`` in a sandbox plan)


def _set_oom_score_adj(value):
    try:
        fd = os.open(_PROC[0] + "/self/oom_score_adj", os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, str(value).encode())
        finally:
            os.close(fd)
    except OSError:
        pass


def drop_privileges(spec):
    if spec.get("hostname"):
        name = spec["hostname"].encode()
        _libc().sethostname(name, len(name))
    if spec.get("mounts"):
        _run_mount_plan(spec["mounts"])
    uid = spec.get("uid")
    if uid is not None:
        gid = spec.get("gid", uid)
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    if spec.get("seccomp"):
        install_filter()


# The environment's system call filter (lamb.sandbox.seccomp), made ready once in the zygote.
_FILTER = []
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


def load_filter(encoded):
    """Keep the BPF program Lamb sent (base64) as the ``struct sock_fprog`` children install."""
    import base64
    import ctypes

    raw = base64.b64decode(encoded)

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buf = ctypes.create_string_buffer(raw, len(raw))
    _FILTER[:] = [SockFprog(len(raw) // 8, ctypes.addressof(buf)), buf]


def install_filter():
    """Install the filter in this process (no_new_privs is set); every process it starts inherits it."""
    import ctypes

    if not _FILTER:
        raise OSError(0, "seccomp: the zygote has no filter")
    _check(_libc().prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(_FILTER[0]), 0, 0), "seccomp")


def apply_sandbox(spec):
    """Apply the sandbox plan Lamb computed for this environment.

    The plain-process backend asks for resource limits only; the isolating
    backend adds cgroups, namespaces, a private filesystem view and an
    unprivileged user.
    """
    sandbox = spec.get("sandbox") or {}
    _PROC[0] = sandbox.get("host_proc") or "/proc"
    apply_limits(sandbox)
    enter_namespaces(sandbox)
    if "pid" in (sandbox.get("unshare") or ()):
        # PID 1 stays minimal (it only reaps); the runtime process builds the view.
        become_init(linger=bool(spec.get("extensions")))
    elif sandbox.get("init"):
        # No PID namespace to end everything with the environment: a subreaper init does it.
        become_init(subreaper=True, linger=bool(spec.get("extensions")))
    drop_privileges(sandbox)


_OWN_PID_NS = [-1]


class InitServer:
    """lamb-init (see lamb/sandbox/lamb_init.c): makes PID 1 of each new PID namespace.

    Started once (posix_spawn copies nothing of the zygote); each request is one
    clone of that small process, which becomes the zygote's own child.
    """

    def __init__(self, path):
        self.path = path
        self.pid = 0
        self._req = self._resp = -1

    def start(self):
        req_r, self._req = os.pipe()
        self._resp, resp_w = os.pipe()
        try:
            self.pid = os.posix_spawn(
                self.path, [self.path], {},
                file_actions=[(os.POSIX_SPAWN_DUP2, req_r, 0), (os.POSIX_SPAWN_DUP2, resp_w, 1)],
            )
        except OSError:
            self.stop()
            raise
        finally:
            os.close(req_r)
            os.close(resp_w)

    def new_init(self):
        """The pid of a new PID 1 (a child of this process)."""
        if self.pid == 0:
            self.start()
        try:
            os.write(self._req, b"+")
            line = b""
            while not line.endswith(b"\n"):
                chunk = os.read(self._resp, 32)
                if not chunk:
                    break
                line += chunk
        except OSError:
            line = b""
        if not line.endswith(b"\n"):
            self.stop()
            raise OSError(0, "lamb-init ended")
        pid = int(line)
        if pid < 0:
            raise OSError(-pid, "lamb-init: clone: %s" % os.strerror(-pid))
        return pid

    def stop(self):
        """Forget the server (it ends when its pipe closes); the zygote reaps it."""
        for fd in (self._req, self._resp):
            if fd >= 0:
                os.close(fd)
        self._req = self._resp = -1
        self.pid = 0


_INIT_SERVERS = {}  # lamb-init path -> its server


def start_init(path):
    """A new PID 1 from the lamb-init server at ``path`` (started on first use)."""
    server = _INIT_SERVERS.get(path)
    if server is None:
        server = _INIT_SERVERS[path] = InitServer(path)
    return server.new_init()


def fork_into_pid_ns(init_pid):
    """fork() with the child in ``init_pid``'s PID namespace (setns on a pidfd, then back)."""
    pidfd = os.pidfd_open(init_pid)
    try:
        _check(_libc().setns(pidfd, CLONE_NEWPID), "setns")
    finally:
        os.close(pidfd)
    try:
        pid = os.fork()
    except OSError:
        _check(_libc().setns(_OWN_PID_NS[0], CLONE_NEWPID), "setns back")
        raise
    if pid:
        _check(_libc().setns(_OWN_PID_NS[0], CLONE_NEWPID), "setns back")
    return pid


_PASSED = []  # in an environment: the descriptors that came with its spawn (sandbox plan's "fds")


def join_netns(spec):
    """Enter the environment's own network namespace (a descriptor Lamb sent with the spawn), as root."""
    # Out of the way of the numbers the child gives its own descriptors (3, 4, …).
    passed = spec.pop("_fds", [])
    _PASSED[:] = [fcntl.fcntl(fd, fcntl.F_DUPFD, 256) for fd in passed]
    for fd in passed:
        os.close(fd)
    index = (spec.get("sandbox") or {}).get("netns_fd")
    if index is None:
        return
    fd, _PASSED[index] = _PASSED[index], -1
    try:
        _check(_libc().setns(fd, CLONE_NEWNET), "setns(net)")
    finally:
        os.close(fd)


def keep_passed(first):
    """Move the passed descriptors still needed to ``first``, ``first + 1``…; the next free number."""
    for i, fd in enumerate(_PASSED):
        if fd >= 0:
            os.dup2(fd, first)
            if fd != first:
                os.close(fd)
            _PASSED[i] = first
            first += 1
    return first


def _attach(fd_index, target):
    """Attach a detached mount Lamb sent (open_tree) at ``target``, then close it."""
    fd = _PASSED[fd_index]
    nr = _SYS_MOVE_MOUNT.get(os.uname().machine)
    if fd < 0 or nr is None:
        raise OSError(0, "move_mount: no mount for %s" % target)
    libc = _libc()
    libc.syscall.restype = __import__("ctypes").c_long
    _check(libc.syscall(nr, fd, b"", AT_FDCWD, target.encode(), MOVE_MOUNT_F_EMPTY_PATH), "move_mount %s" % target)
    os.close(fd)
    _PASSED[fd_index] = -1


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def start_extension(path, env, outlive_runtime=False):
    """An external extension: a process of its own in the environment, started before the
    runtime (AWS's Extension init), writing to the function's log. It dies with the runtime,
    unless the environment has an init (``outlive_runtime``): then it is orphaned to that init
    when the runtime ends, gets its SHUTDOWN event after the runtime's SIGTERM as on AWS, and
    ends with the environment (its PID namespace, or the subreaper init's kill)."""
    try:
        pid = os.fork()
    except OSError as e:
        os.write(2, ("lamb: cannot start extension %s: %s\n" % (path, e)).encode())
        return
    if pid == 0:
        try:
            if not outlive_runtime:
                _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            os.execve(path, [path], env)
        except BaseException as e:
            os.write(2, ("lamb: cannot start extension %s: %s\n" % (path, e)).encode())
        os._exit(127)


def child_main(spec, log_fd, parent_pid):
    """Become an execution environment. Never returns."""
    try:
        os.setsid()
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        # In a new PID namespace the parent (the zygote) is outside it: getppid() is 0.
        if os.getppid() not in (parent_pid, 0):
            os._exit(1)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        join_netns(spec)
        status_fd = spec.get("_status_fd", -1)
        if status_fd >= 0:
            os.dup2(status_fd, 3)
            _STATUS_FD[0] = 3
            os.closerange(keep_passed(4), 65536)
        else:
            os.closerange(keep_passed(3), 65536)
        apply_sandbox(spec)
        os.environ.clear()
        os.environ.update(spec["env"])
        os.chdir(spec["cwd"])
        sandbox = spec.get("sandbox") or {}
        has_init = bool(sandbox.get("init_exec") or sandbox.get("init") or "pid" in (sandbox.get("unshare") or ()))
        for path in spec.get("extensions") or ():
            start_extension(path, spec["env"], outlive_runtime=has_init)
        if not spec.get("exec"):
            problem = adopt_preloaded(spec["env"])
            if problem:
                os.write(2, ("lamb: %s\n" % problem).encode())
                os._exit(1)
        if spec.get("exec"):
            # A custom runtime: its bootstrap speaks the Runtime API itself.
            argv = spec["exec"]
            os.execve(argv[0], argv, spec["env"])
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
    # SIGTERM is the zygote's parent-death signal: Lamb is gone. Handled in the loop.
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import select

    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    poller.register(rfd, select.POLLIN)

    # The cgroup folders of each environment, to thaw them when Lamb is gone.
    env_cgroups = {}

    def leave():
        """Lamb is gone: thaw every environment (a frozen task ignores even SIGKILL) and exit.

        Each environment's init dies with the zygote (PR_SET_PDEATHSIG) once thawed.
        """
        for dirs in env_cgroups.values():
            for d in dirs:
                for name, value in (("freezer.state", "THAWED"), ("cgroup.freeze", "0")):
                    try:
                        with open(os.path.join(d, name), "w") as f:
                            f.write(value)
                    except OSError:
                        pass
        os._exit(0)

    def send(msg):
        try:
            sock.send(json.dumps(msg).encode())
        except OSError:
            leave()

    status_pipes = {}
    inits = {}  # runtime pid -> its lamb-init (PID 1 of its namespace)
    init_pids = set()  # lamb-inits killed, not yet reaped
    keep = set()  # runtimes with external extensions: their namespace outlives them until "end"
    held = {}  # runtime pid (ended) -> its lamb-init, kept until Lamb's "end"
    sock.send(b'{"op": "ready"}')
    while True:
        if stopping:
            leave()
        try:
            events = poller.poll()
        except InterruptedError:
            events = []
        if stopping:
            leave()
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
            if pid in init_pids:
                init_pids.discard(pid)  # lamb-init, killed below when its runtime ended
                continue
            server = next((srv for srv in _INIT_SERVERS.values() if srv.pid == pid), None)
            if server is not None:
                server.stop()  # the lamb-init server ended: the next spawn starts another
                continue
            init_pid = inits.pop(pid, 0)
            if init_pid and pid in keep:
                # External extensions may still work on their SHUTDOWN event: the namespace
                # ends when Lamb says so ({"op": "end"}), at the latest when the zygote does.
                keep.discard(pid)
                held[pid] = init_pid
            elif init_pid:
                # The runtime ended: end its PID namespace, and whatever it left running there.
                _kill(init_pid)
                init_pids.add(init_pid)
            env_cgroups.pop(pid, None)
            status_r = status_pipes.pop(pid, -1)
            if status_r >= 0:
                # The environment's init reported how its runtime ended.
                try:
                    data = os.read(status_r, 32)
                    if data:
                        status = int(data)
                except (OSError, ValueError):
                    pass
                os.close(status_r)
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
            leave()
        if not data:
            leave()
        msg = json.loads(data)
        if msg.get("op") == "exit":
            leave()
        if msg.get("op") == "end":
            # Lamb ends an environment whose namespace was kept past its runtime (or will be).
            keep.discard(msg["pid"])
            init_pid = held.pop(msg["pid"], 0)
            if init_pid:
                _kill(init_pid)
                init_pids.add(init_pid)
            continue
        if msg.get("op") != "spawn":
            continue
        log_fd = fds[0] if fds else os.open(os.devnull, os.O_WRONLY)
        spec = msg["spec"]
        sandbox = spec.get("sandbox") or {}
        if len(fds[1:]) != len(sandbox.get("fds", ())):
            for fd in fds:
                os.close(fd)
            send({"op": "failed", "id": msg["id"], "error": "the spawn's descriptors did not all arrive"})
            continue
        spec["_fds"] = list(fds[1:])
        pid_ns = "pid" in (sandbox.get("unshare") or ())
        status_r = status_w = -1
        init_pid = 0
        try:
            if sandbox.get("init_exec"):
                # PID 1 is lamb-init; the runtime is forked straight into its namespace.
                init_pid = start_init(sandbox["init_exec"])
                pid = fork_into_pid_ns(init_pid)
            else:
                if pid_ns or sandbox.get("init"):
                    # The environment's init reports how its runtime ended through this pipe.
                    status_r, status_w = os.pipe()
                    os.set_blocking(status_r, False)
                    spec["_status_fd"] = status_w
                if pid_ns:
                    sandbox["cloned"] = True
                    pid = clone_into(sandbox["unshare"])
                else:
                    pid = os.fork()
        except OSError as e:
            os.close(log_fd)
            for fd in (status_r, status_w):
                if fd >= 0:
                    os.close(fd)
            if init_pid:
                _kill(init_pid)
            for extra in fds[1:]:
                os.close(extra)
            send({"op": "failed", "id": msg["id"], "error": str(e)})
            continue
        if pid == 0:
            sock.close()
            child_main(spec, log_fd, parent_pid)
        os.close(log_fd)
        if status_w >= 0:
            os.close(status_w)
            status_pipes[pid] = status_r
        if init_pid:
            inits[pid] = init_pid
            if spec.get("extensions"):
                keep.add(pid)
        cgroup_dirs = [os.path.dirname(p) for p in sandbox.get("cgroup_procs", ())]
        if cgroup_dirs:
            env_cgroups[pid] = cgroup_dirs
        for extra in fds[1:]:
            os.close(extra)
        send({"op": "spawned", "id": msg["id"], "pid": pid})


def setup(sock):
    """Say hello, then build the view Lamb asks for and preload the runtime there.

    With the isolating backend the zygote enters a mount namespace of its own
    and pivots into a *template root* (read-only /usr, /etc, the interpreter,
    the runtime at /var/runtime, /dev, mount points) with the host kept at
    ``/.host``. Every environment is a copy of that namespace: it only binds its
    code and layers from ``/.host``, mounts its /tmp and /proc and detaches
    ``/.host``. Modules are imported from the path environments see them at.
    """
    sock.send(json.dumps({
        "op": "hello", "pid": os.getpid(), "prefix": sys.base_prefix, "exec_prefix": sys.base_exec_prefix,
    }).encode())
    msg = json.loads(sock.recv(1 << 20) or b"{}")
    if msg.get("op") != "setup":
        os._exit(1)
    try:
        if msg.get("mounts"):
            _check(_libc().unshare(CLONE_NEWNS), "unshare")
            _run_mount_plan(msg["mounts"])
        if msg.get("seccomp"):
            load_filter(msg["seccomp"])
        if msg.get("init_exec"):
            _INIT_SERVERS[msg["init_exec"]] = server = InitServer(msg["init_exec"])
            server.start()
    except OSError as e:
        sock.send(json.dumps({"op": "setup_failed", "error": str(e)}).encode())
        os._exit(1)
    return msg.get("runtime_root") or "", msg.get("env") or {}, msg.get("runtime_client") or "native"


def main():
    # Lamb's own variables are not the environments': each child sets exactly its own, and
    # clearing an empty environment costs nothing (Lamb's cost ~0.3 ms in every child).
    os.environ.clear()
    fd = int(sys.argv[1])
    # Told by SIGTERM when Lamb dies, so that frozen environments are thawed (see serve).
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    try:
        _OWN_PID_NS[0] = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)  # before any pivot
    except OSError:
        pass
    preload(*setup(sock))
    import gc

    gc.collect()
    gc.freeze()  # children never walk (and so never copy) what the zygote loaded
    serve(sock)


if __name__ == "__main__":
    main()
