"""lamb.invoke.debug and config.parse_debug: which functions are debugged, on which ports."""

from __future__ import annotations

import pytest

from lamb.config import Settings, parse_debug
from lamb.invoke import debug


def test_ports_are_given_or_the_next_free_from_5678():
    assert parse_debug("a:5678,b") == {"a": 5678, "b": 5679}
    assert parse_debug(["a", "b:5678"]) == {"a": 5679, "b": 5678}
    assert parse_debug(" x ") == {"x": 5678}
    assert parse_debug("") == {}


@pytest.mark.parametrize("bad", ["a:0", "a:70000", "a:x", ":5678", "a:5678,b:5678"])
def test_bad_lists_are_refused(bad):
    with pytest.raises(ValueError):
        parse_debug(bad)


def test_settings_read_lamb_debug_and_the_flag():
    assert Settings.from_env({"LAMB_DEBUG": "f:6000"}).debug == {"f": 6000}
    assert Settings.from_env({}, debug="g").debug == {"g": 5678}
    assert Settings.from_env({}).debug == {}


def test_a_second_environment_is_throttled_as_reserved_concurrency_one():
    e = debug.busy("f")
    assert (e.code, e.status, e.fields["Reason"]) == (
        "TooManyRequestsException", 429, "ReservedFunctionConcurrentInvocationLimitExceeded")


def test_the_announcement_names_function_and_port():
    assert debug.announce({"f": 5678})[0].startswith("debug: f runs under a debugger on 127.0.0.1:5678")
