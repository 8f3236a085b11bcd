"""What the zygote needs to turn a fork into an environment of one runtime family: a pure function.

Variables are AWS's (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html);
the function's own may not override the reserved ones (CreateFunction refuses them), and
they win over Lamb's defaults and the variables every function inherits from Lamb.
Where each family looks inside /opt is AWS's layer layout
(https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html#packaging-layers-paths).
Paths are as the environment sees them (/var/task, /var/runtime and /opt with the
isolating backend, host folders without it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import execution_env, node
from .node import ENTRY as NODE_ENTRY


@dataclass(frozen=True)
class SpawnInput:
    """Everything a spawn spec depends on (nothing is looked up)."""

    runtime: str  # e.g. python3.12
    family: str  # "python" | "nodejs" | "provided"
    handler: str
    function_name: str
    version: str
    memory_mb: int
    region: str
    log_group: str
    log_stream: str
    runtime_api: str  # host:port of the Runtime API the environment polls
    provisioned: bool  # AWS_LAMBDA_INITIALIZATION_TYPE
    task_root: str  # /var/task as the environment sees it
    runtime_dir: str  # /var/runtime
    opt_root: str  # /opt
    interpreter: str = ""  # python: the zygote's interpreter
    node: str = ""  # nodejs: the node binary
    node_entry: str = NODE_ENTRY  # nodejs: the bootstrap file in the runtime root (``node.resolve``)
    python_client: str = "lamb"  # python: "lamb" runs awslambdaric with Lamb's transport (lamb_runtime_client)
    bootstrap: str = ""  # provided: the bootstrap to exec (see ``find_bootstrap``)
    log_format: str = "Text"  # LoggingConfig.LogFormat
    log_level: str | None = None  # LoggingConfig.ApplicationLogLevel
    variables: tuple[tuple[str, str], ...] = ()  # the function's Environment.Variables
    extensions: tuple[str, ...] = ()  # external extensions to start before the runtime (/opt/extensions/...)
    inherited: dict[str, str] = field(default_factory=dict)  # what every function inherits from Lamb
    sandbox_env: dict[str, str] = field(default_factory=dict)  # what the sandbox backend sets
    sandbox_plan: dict = field(default_factory=dict)  # the sandbox backend's plan for the child
    debug_port: int = 0  # a debugger listens on 127.0.0.1:<port> inside (``lamb serve --debug``)


# python: debugpy (installed in the runtime root's _debugpy by ``python.ensure_debugpy``) listens,
# then awslambdaric runs as ``python -m awslambdaric <handler>`` would. A retired environment of
# the same function (hot reload) may hold the port for its shutdown grace: listening is retried.
PY_DEBUG_BOOT = """\
import sys, time, runpy
import debugpy
port, handler, client = int(sys.argv[1]), sys.argv[2], sys.argv[3:4]
for attempt in range(50):
    try:
        debugpy.listen(("127.0.0.1", port))
        break
    except Exception:
        if attempt == 49:
            raise
        time.sleep(0.1)
print(f"debugpy is listening on 127.0.0.1:{port} (attach a debugger; the function's timeout is off)", flush=True)
sys.argv = ["awslambdaric", handler]
if client == ["lamb"]:
    import lamb_runtime_client
    lamb_runtime_client.install()
runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)
"""


def layer_paths(opt_root: str, runtime: str) -> dict:
    """Where each runtime looks inside /opt (AWS: layers are extracted to /opt)."""
    out: dict = {"PATH": f"{opt_root}/bin", "LD_LIBRARY_PATH": f"{opt_root}/lib", "sys_path": [], "node_path": []}
    if runtime.startswith("python"):
        version = runtime[len("python"):]
        out["sys_path"] = [f"{opt_root}/python/lib/python{version}/site-packages", f"{opt_root}/python"]
    elif runtime.startswith("nodejs"):
        major = runtime[len("nodejs"):].split(".")[0]
        out["node_path"] = [f"{opt_root}/nodejs/node{major}/node_modules", f"{opt_root}/nodejs/node_modules"]
    return out


def spawn_spec(i: SpawnInput) -> dict:
    """The zygote's spawn request: cwd, handler, sandbox plan, variables, and for exec'd
    families the command (python forks with ``sys_path`` instead)."""
    paths = layer_paths(i.opt_root, i.runtime)
    if i.family == "python":
        lang_bin = os.path.dirname(i.interpreter) + ":"
    elif i.family == "nodejs":
        lang_bin = os.path.dirname(i.node) + ":"
    else:
        lang_bin = ""
    reserved = {
        "_HANDLER": i.handler,
        "AWS_REGION": i.region,
        "AWS_DEFAULT_REGION": i.region,
        "AWS_EXECUTION_ENV": execution_env(i.runtime),
        "AWS_LAMBDA_FUNCTION_NAME": i.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(i.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": i.version,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency" if i.provisioned else "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": i.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": i.log_stream,
        "AWS_LAMBDA_RUNTIME_API": i.runtime_api,
        "LAMBDA_TASK_ROOT": i.task_root,
        "LAMBDA_RUNTIME_DIR": i.runtime_dir,
    }
    if i.log_format == "JSON":
        # What awslambdaric and aws-lambda-ric read to write JSON application logs
        # (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html).
        reserved["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        reserved["AWS_LAMBDA_LOG_LEVEL"] = i.log_level or "INFO"
    defaults = {
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": f"{lang_bin}/usr/local/bin:/usr/bin/:/bin:{paths['PATH']}",
        "LD_LIBRARY_PATH": f"/lib64:/usr/lib64:{i.runtime_dir}:{i.runtime_dir}/lib:"
        f"{i.task_root}:{i.task_root}/lib:{paths['LD_LIBRARY_PATH']}",
    }
    spec: dict = {"cwd": i.task_root, "handler": i.handler, "sandbox": i.sandbox_plan}
    if i.family == "python":
        defaults["PYTHONPATH"] = i.runtime_dir
        spec["sys_path"] = [i.task_root, *paths["sys_path"]]
    elif i.family == "nodejs":
        defaults["NODE_PATH"] = ":".join([*paths["node_path"], f"{i.runtime_dir}/node_modules", i.runtime_dir, i.task_root])
        spec["exec"] = [i.node, node.entry(i.runtime_dir, i.node_entry), i.handler]
    else:
        spec["exec"] = [i.bootstrap]
    spec["env"] = {**i.inherited, **defaults, **i.sandbox_env, **dict(i.variables), **reserved}
    if i.extensions:
        spec["extensions"] = list(i.extensions)
    wrapper = spec["env"].get("AWS_LAMBDA_EXEC_WRAPPER")
    if wrapper and i.family != "provided":
        if wrapper.startswith("/opt/") and i.opt_root != "/opt":  # layers not mounted at /opt (process backend)
            wrapper = i.opt_root + wrapper[len("/opt"):]
        # AWS runs a managed runtime's bootstrap through the wrapper script, with the bootstrap's
        # command line as its arguments (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-modify.html).
        if i.family == "python":
            spec["env"]["PYTHONPATH"] = ":".join([i.runtime_dir, i.task_root, *paths["sys_path"]])
            # The wrapper sees AWS's command line, so awslambdaric runs here with its native module.
            spec["exec"] = [wrapper, i.interpreter, "-m", "awslambdaric", i.handler]
        else:
            spec["exec"] = [wrapper, *spec["exec"]]
    if i.debug_port:
        _debug(spec, i, paths)
    return spec


def _debug(spec: dict, i: SpawnInput, paths: dict) -> None:
    """Start the runtime under its debugger, listening on ``i.debug_port`` (a custom runtime
    brings its own and reads ``LAMB_DEBUG_PORT``)."""
    spec["env"]["LAMB_DEBUG_PORT"] = str(i.debug_port)
    if i.family == "python":
        spec["env"]["PYTHONPATH"] = ":".join([f"{i.runtime_dir}/_debugpy", i.runtime_dir, i.task_root, *paths["sys_path"]])
        spec["exec"] = [i.interpreter, "-c", PY_DEBUG_BOOT, str(i.debug_port), i.handler, i.python_client]
    elif i.family == "nodejs":
        at = spec["exec"].index(i.node) + 1  # after a wrapper, if any
        spec["exec"][at:at] = [f"--inspect=127.0.0.1:{i.debug_port}"]


def find_bootstrap(code_dir: Path, opt_dir: Path | None, task_root: str, opt_root: str) -> str | None:
    """A custom runtime's entry point as the environment sees it: /var/task/bootstrap, else
    /opt/bootstrap (AWS's order); None when neither exists."""
    candidates = [(code_dir / "bootstrap", f"{task_root}/bootstrap")]
    if opt_dir is not None:
        candidates.append((opt_dir / "bootstrap", f"{opt_root}/bootstrap"))
    for host, seen in candidates:
        if host.is_file():
            return seen
    return None
