"""Function state from the runtime's readiness (``lamb.services.function_state``)."""

from __future__ import annotations

from lamb.services.function_state import FunctionStates


class Runtimes:
    """The two questions function state asks of the runtime manager."""

    def __init__(self, ready: bool, error: str | None = None):
        self._ready, self._error = ready, error

    def ready(self, runtime):
        return self._ready

    def error(self, runtime):
        return self._error


def test_state_follows_the_runtime(functions):
    assert FunctionStates(functions, Runtimes(True), None).of("python3.12") == {"State": "Active"}
    assert FunctionStates(functions, Runtimes(False), None).of("python3.12")["State"] == "Pending"
    failed = FunctionStates(functions, Runtimes(False, "no python3.12 here"), None).of("python3.12")
    assert failed == {"State": "Failed", "StateReason": "no python3.12 here", "StateReasonCode": "InvalidRuntime"}
    assert FunctionStates(functions, Runtimes(False), None).of("cobol")["State"] == "Failed"


def test_pending_versions_move_on_with_a_new_revision(functions):
    functions.put_version("f", "$LATEST", {**functions.get("f").latest, "State": "Pending", "StateReason": "x"})
    FunctionStates(functions, Runtimes(True), None).refresh("f")
    latest = functions.get("f").latest
    assert latest["State"] == "Active" and "StateReason" not in latest and latest["RevisionId"] != "r0"
    assert functions.get("f").versions["1"]["RevisionId"] == "r1"  # not Pending: untouched
