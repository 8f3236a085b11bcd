"""The spawn spec per runtime family (``lamb.runtimes.spawn``): a pure function of its input."""

from __future__ import annotations

from dataclasses import replace

from lamb.runtimes.spawn import SpawnInput, find_bootstrap, layer_paths, spawn_spec

BASE = SpawnInput(
    runtime="python3.12", family="python", handler="app.handler", function_name="f", version="$LATEST",
    memory_mb=256, region="eu-west-1", log_group="/aws/lambda/f", log_stream="2026/12/06/[$LATEST]abc",
    runtime_api="127.0.0.1:9001", provisioned=False, task_root="/var/task", runtime_dir="/var/runtime",
    opt_root="/opt", interpreter="/usr/bin/python3.12", variables=(("MINE", "1"), ("TZ", "Europe/Paris")),
    inherited={"AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9000", "TZ": "x"}, sandbox_env={"TMPDIR": "/t"},
    sandbox_plan={"init": True},
)


def test_python_forks_with_its_sys_path_and_aws_variables():
    spec = spawn_spec(BASE)
    assert "exec" not in spec
    assert spec["sys_path"] == ["/var/task", "/opt/python/lib/python3.12/site-packages", "/opt/python"]
    assert spec["cwd"] == "/var/task" and spec["handler"] == "app.handler" and spec["sandbox"] == {"init": True}
    env = spec["env"]
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_LAMBDA_RUNTIME_API"] == "127.0.0.1:9001"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["PYTHONPATH"] == "/var/runtime"
    assert env["PATH"].startswith("/usr/bin:/usr/local/bin:") and env["PATH"].endswith(":/opt/bin")
    assert env["MINE"] == "1" and env["TMPDIR"] == "/t"
    assert env["TZ"] == "Europe/Paris"  # the function's own variables win over defaults and inherited ones
    assert "AWS_LAMBDA_LOG_FORMAT" not in env


def test_reserved_variables_win_and_json_logging():
    spec = spawn_spec(replace(BASE, variables=(("_HANDLER", "evil"),), provisioned=True, log_format="JSON"))
    env = spec["env"]
    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "provisioned-concurrency"
    assert (env["AWS_LAMBDA_LOG_FORMAT"], env["AWS_LAMBDA_LOG_LEVEL"]) == ("JSON", "INFO")


def test_nodejs_execs_the_runtime_interface_client():
    spec = spawn_spec(replace(BASE, runtime="nodejs20.x", family="nodejs", node="/usr/bin/node", interpreter=""))
    assert spec["exec"][0] == "/usr/bin/node" and spec["exec"][1].startswith("/var/runtime/")
    assert spec["exec"][2] == "app.handler"
    assert spec["env"]["NODE_PATH"].split(":")[:2] == ["/opt/nodejs/node20/node_modules", "/opt/nodejs/node_modules"]
    assert "sys_path" not in spec and "PYTHONPATH" not in spec["env"]


def test_provided_execs_its_bootstrap(tmp_path):
    code, opt = tmp_path / "code", tmp_path / "opt"
    code.mkdir()
    opt.mkdir()
    assert find_bootstrap(code, opt, "/var/task", "/opt") is None
    (opt / "bootstrap").write_text("#!/bin/sh\n")
    assert find_bootstrap(code, opt, "/var/task", "/opt") == "/opt/bootstrap"
    (code / "bootstrap").write_text("#!/bin/sh\n")
    boot = find_bootstrap(code, opt, "/var/task", "/opt")
    assert boot == "/var/task/bootstrap"  # the function's own first, as AWS looks
    spec = spawn_spec(replace(BASE, runtime="provided.al2023", family="provided", interpreter="", bootstrap=boot))
    assert spec["exec"] == ["/var/task/bootstrap"]
    assert spec["env"]["PATH"].startswith("/usr/local/bin:")


def test_layer_paths_per_runtime():
    assert layer_paths("/opt", "provided.al2")["sys_path"] == []
    assert layer_paths("/o", "python3.9")["sys_path"][0] == "/o/python/lib/python3.9/site-packages"
