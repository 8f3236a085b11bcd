"""Reserved and provisioned concurrency, the account pool, throttling and the scaling rate."""

from __future__ import annotations

import base64
import threading
import time
from collections import Counter

import pytest

from .conftest import create, invoke, unique, wait_for

SLEEPER = ("import os, time\n"
           "def handler(e, c):\n"
           "    time.sleep(e.get('s', 0))\n"
           "    return {'type': os.environ['AWS_LAMBDA_INITIALIZATION_TYPE'], 'stream': c.log_stream_name}\n")


def client(server):
    return server.client(max_pool_connections=200)


def burst(lam, name, n, seconds=1.0, **kw):
    """n simultaneous invocations; returns [(status or throttle Reason, payload)]."""
    results = []
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def one():
        barrier.wait()
        try:
            resp, out = invoke(lam, name, {"s": seconds}, **kw)
            item = (resp["StatusCode"], out, resp)
        except lam.exceptions.TooManyRequestsException as e:
            item = (e.response["Reason"], e.response["Error"]["Message"], e.response)
        with lock:
            results.append(item)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_reserved_concurrency_caps_and_throttles(lamb_server):
    lam = client(lamb_server)
    name = unique("res")
    create(lam, name, SLEEPER, Timeout=30)
    assert lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)["ReservedConcurrentExecutions"] == 5
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 5
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    results = burst(lam, name, 20)
    counts = Counter(r[0] for r in results)
    assert counts == {200: 5, "ReservedFunctionConcurrentInvocationLimitExceeded": 15}, counts
    throttled = [r for r in results if r[0] != 200]
    assert all(r[1] == "Rate Exceeded." for r in throttled)
    assert all(r[2]["ResponseMetadata"]["HTTPStatusCode"] == 429 for r in throttled)
    assert len({r[1]["stream"] for r in results if r[0] == 200}) == 5
    peak = lamb_server.get_json(f"/_lamb/metrics?metric=ConcurrentExecutions&FunctionName={name}")
    assert max(p["max"] for p in peak[0]["points"]) == 5
    throttles = lamb_server.get_json(f"/_lamb/metrics?metric=Throttles&FunctionName={name}")
    assert sum(p["sum"] for p in throttles[0]["points"]) == 15
    lam.delete_function_concurrency(FunctionName=name)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)
    assert "Concurrency" not in lam.get_function(FunctionName=name)


def test_reserved_zero_throttles_everything(lam):
    name = unique("zero")
    create(lam, name, SLEEPER)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as e:
        lam.invoke(FunctionName=name)
    assert e.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lam.delete_function_concurrency(FunctionName=name)
    assert invoke(lam, name)[0]["StatusCode"] == 200


def test_unreserved_pool_keeps_100(lam):
    name = unique("greedy")
    create(lam, name, SLEEPER)
    before = lam.get_account_settings()["AccountLimit"]
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=before["UnreservedConcurrentExecutions"] - 99)
    assert e.value.response["Error"]["Message"] == (
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
        "below its minimum value of [100].")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=before["UnreservedConcurrentExecutions"] - 100)
    after = lam.get_account_settings()["AccountLimit"]
    assert after["UnreservedConcurrentExecutions"] == 100
    assert after["ConcurrentExecutions"] == before["ConcurrentExecutions"]
    lam.delete_function_concurrency(FunctionName=name)
    assert lam.get_account_settings()["AccountLimit"] == before


def test_account_limit(fresh_server):
    server = fresh_server(env={"LAMB_LIMIT_ACCOUNT_CONCURRENCY": "10", "LAMB_LIMIT_UNRESERVED_CONCURRENCY_MIN": "2"})
    lam = client(server)
    assert lam.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 10
    name = unique("acct")
    create(lam, name, SLEEPER, Timeout=30)
    counts = Counter(r[0] for r in burst(lam, name, 11))
    assert counts == {200: 10, "ConcurrentInvocationLimitExceeded": 1}, counts


def test_scaling_rate(fresh_server):
    server = fresh_server(env={"LAMB_LIMIT_SCALING_ENVIRONMENTS": "3", "LAMB_LIMIT_SCALING_WINDOW_S": "30"})
    lam = client(server)
    name = unique("scale")
    create(lam, name, SLEEPER, Timeout=30)
    counts = Counter(r[0] for r in burst(lam, name, 6))
    assert counts == {200: 3, "ConcurrentInvocationLimitExceeded": 3}, counts
    # Warm environments need no new tokens.
    counts = Counter(r[0] for r in burst(lam, name, 3, seconds=0.2))
    assert counts == {200: 3}


def _published(lam, name, **kw):
    create(lam, name, SLEEPER, Timeout=30, **kw)
    return lam.publish_version(FunctionName=name)["Version"]


def test_provisioned_concurrency_ready_and_spillover(lamb_server):
    lam = client(lamb_server)
    name = unique("prov")
    version = _published(lam, name)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=2)
    assert e.value.response["Error"]["Message"] == "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
    with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
    put = lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=2)
    assert put["RequestedProvisionedConcurrentExecutions"] == 2
    assert put["Status"] in ("IN_PROGRESS", "READY")
    wait_for(lambda: lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)["Status"] == "READY",
             30, 0.1, "provisioned concurrency to be READY")
    cfg = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
    assert cfg["AllocatedProvisionedConcurrentExecutions"] == 2 == cfg["AvailableProvisionedConcurrentExecutions"]
    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"] for c in listed] == [lamb_server.arn(name, version)]
    # Provisioned environments serve first, without Init Duration, with the provisioned init type.
    resp, out = invoke(lam, name, {}, Qualifier=version, LogType="Tail")
    assert out["type"] == "provisioned-concurrency"
    assert "Init Duration" not in base64.b64decode(resp["LogResult"]).decode()
    # Beyond them, on-demand environments take the spillover.
    results = burst(lam, name, 4, Qualifier=version)
    types = Counter(r[1]["type"] for r in results)
    assert types == {"provisioned-concurrency": 2, "on-demand": 2}, types
    spill = lamb_server.get_json(f"/_lamb/metrics?metric=ProvisionedConcurrencySpilloverInvocations&FunctionName={name}")
    assert sum(p["sum"] for p in spill[0]["points"]) == 2
    # $LATEST has no provisioned environments.
    assert invoke(lam, name, {})[1]["type"] == "on-demand"
    # Removing the config releases the environments.
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
    wait_for(lambda: not any(e["provisioned"] for e in lamb_server.get_json("/_lamb/environments")
                             if e["function"] == name), 10, 0.1, "provisioned environments to stop")
    with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)


def test_provisioned_on_alias_and_reserved_rules(lam):
    name = unique("provalias")
    version = _published(lam, name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=3)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=4)
    assert e.value.response["Error"]["Message"] == (
        "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function")
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1)
    wait_for(lambda: lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")["Status"] == "READY",
             30, 0.1, "alias provisioned concurrency to be READY")
    assert invoke(lam, name, {}, Qualifier="live")[1]["type"] == "provisioned-concurrency"
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="nope", ProvisionedConcurrentExecutions=1)


def test_provisioned_environments_outlive_keep_alive_and_restart(fresh_server):
    server = fresh_server(extra_args=["--keep-alive", "1"])
    lam = client(server)
    name = unique("provka")
    version = _published(lam, name)
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
    wait_for(lambda: lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)["Status"] == "READY",
             30, 0.1, "READY")
    invoke(lam, name, {})  # an on-demand environment of $LATEST, reclaimed by keep-alive
    time.sleep(2.5)
    envs = [e for e in server.get_json("/_lamb/environments") if e["function"] == name]
    assert [e["provisioned"] for e in envs] == [True]
    server.terminate()
    server.restart()
    lam = client(server)
    wait_for(lambda: lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)["Status"] == "READY",
             60, 0.2, "READY after restart")
    assert invoke(lam, name, {}, Qualifier=version)[1]["type"] == "provisioned-concurrency"


def test_burst_of_cold_starts_never_hangs(fresh_server):
    """Hundreds of environments requested at once: the zygote's socket fills up both ways.

    Lamb once blocked writing spawn requests while the zygote blocked writing exit
    reports back, and every invocation hung.
    """
    server = fresh_server()
    lam = client(server)
    name = unique("burst")
    create(lam, name, SLEEPER, Timeout=60)
    # each holds its environment 2 s, so that on a loaded host (2 cores, load 10) the last of the
    # 200 requests still arrives before the first environments are free again
    results = burst(lam, name, 200, seconds=2.0)
    assert Counter(r[0] for r in results) == {200: 200}
    # Most ran in an environment of their own (a finished one may take a late request).
    assert len({r[1]["stream"] for r in results}) > 150
