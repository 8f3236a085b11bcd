"""The spawn spec's extensions and AWS_LAMBDA_EXEC_WRAPPER (lamb.runtimes.spawn)."""

from lamb.runtimes.spawn import SpawnInput, spawn_spec


def spec_for(family: str, variables=(), opt_root="/opt", extensions=()) -> dict:
    return spawn_spec(SpawnInput(
        runtime="python3.12" if family == "python" else "nodejs20.x", family=family, handler="fn.handler",
        function_name="fn", version="$LATEST", memory_mb=128, region="us-east-1", log_group="/aws/lambda/fn",
        log_stream="s", runtime_api="127.0.0.1:9001", provisioned=False, task_root="/var/task",
        runtime_dir="/var/runtime", opt_root=opt_root, interpreter="/usr/bin/python3.12", node="/usr/bin/node",
        variables=tuple(variables), extensions=tuple(extensions),
    ))


def test_extensions_are_passed_to_the_zygote():
    assert spec_for("python", extensions=["/opt/extensions/a"])["extensions"] == ["/opt/extensions/a"]
    assert "extensions" not in spec_for("python")


def test_exec_wrapper_runs_the_runtime_through_the_script():
    spec = spec_for("python", [("AWS_LAMBDA_EXEC_WRAPPER", "/opt/wrap")])
    assert spec["exec"] == ["/opt/wrap", "/usr/bin/python3.12", "-m", "awslambdaric", "fn.handler"]
    assert spec["env"]["PYTHONPATH"].split(":")[:2] == ["/var/runtime", "/var/task"]
    node = spec_for("nodejs", [("AWS_LAMBDA_EXEC_WRAPPER", "/opt/wrap")])
    assert node["exec"][0] == "/opt/wrap" and node["exec"][1] == "/usr/bin/node"
    assert "exec" not in spec_for("python")  # forked from the zygote without a wrapper


def test_exec_wrapper_under_opt_follows_the_layers_folder():
    spec = spec_for("python", [("AWS_LAMBDA_EXEC_WRAPPER", "/opt/wrap")], opt_root="/data/opt/abc")
    assert spec["exec"][0] == "/data/opt/abc/wrap"
