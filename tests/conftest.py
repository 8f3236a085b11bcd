"""Suite-wide set-up: build the runtime roots once before any test needs them.

On a fresh machine the first function of a runtime makes Lamb install that
runtime's root (awslambdaric + boto3 with pip, aws-lambda-ric with npm), which
can take longer than a test is willing to wait for a function to become Active.
``lamb runtimes install`` does it up front, for every runtime this host can run;
it is a no-op once the roots exist (they are cached in ~/.cache/lamb/runtimes).

It also installs the Debian packages the sandbox tests need when the host lacks them
(``nft`` for ``--network isolated``, ``mkfs.ext4`` for /tmp on disk (the default), libseccomp for the
seccomp filter), and the RabbitMQ broker the Amazon MQ event source tests start, with apt-get
as root, as the project's own test set-up must. Where that cannot be done, nothing is skipped: the tests that need them fail and say why.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import subprocess
import sys

# What the sandbox tests use from the host, and the Debian package that brings it.
# Debian's awscli is AWS CLI v2 (the CloudWatch Logs tests run `aws logs tail --follow`, which
# v1 lacks); it is looked up by its path, as the virtual environment's `aws` is v1.
# rabbitmq-server: the real broker of the Amazon MQ (RabbitMQ) event source tests.
SYSTEM_TOOLS = {"nft": "nftables", "mkfs.ext4": "e2fsprogs", "/usr/bin/aws": "awscli",
                "rabbitmq-server": "rabbitmq-server"}
SYSTEM_LIBRARIES = {"seccomp": "libseccomp2"}


def _missing_packages() -> list[str]:
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])  # rabbitmq-server is in sbin
    missing = [pkg for tool, pkg in SYSTEM_TOOLS.items() if shutil.which(tool, path=path) is None]
    missing += [pkg for lib, pkg in SYSTEM_LIBRARIES.items() if ctypes.util.find_library(lib) is None]
    return sorted(set(missing))


def _install_system_packages() -> None:
    missing = _missing_packages()
    if not missing or os.geteuid() != 0 or shutil.which("apt-get") is None or os.environ.get("LAMB_APT_GET") == "0":
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=120", *missing]
    if subprocess.run(install, capture_output=True, env=env, timeout=900).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, timeout=900)
        subprocess.run(install, capture_output=True, env=env, timeout=900)
    still = _missing_packages()
    if still:
        sys.stderr.write(f"test set-up: could not install {' '.join(still)}; the tests that need them will fail\n")


def pytest_sessionstart(session) -> None:
    _install_system_packages()
    proc = subprocess.run(
        [sys.executable, "-m", "lamb", "runtimes", "install"], capture_output=True, text=True, timeout=1800
    )
    sys.stderr.write(proc.stdout + proc.stderr)
