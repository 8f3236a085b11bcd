"""apis/method_settings.py: UpdateStage's method-setting paths and the settings a method gets."""

import pytest

from lamb.apis import method_settings as ms

DEFAULTS = ms.defaults(10_000, 5_000)


def test_split_keeps_the_key_as_given():
    assert ms.split("/*/*/logging/loglevel") == ("*/*", "logging/loglevel")
    assert ms.split("/~1/GET/metrics/enabled") == ("~1/GET", "metrics/enabled")
    assert ms.split("/pets/{id}/GET/throttling/rateLimit") == ("pets/{id}/GET", "throttling/rateLimit")
    assert ms.split("/pets/GET") == ("pets/GET", "")
    assert ms.split("/deploymentId") is None and ms.split("/variables/a") is None


def test_defaults_are_aws_and_a_member_starts_from_the_stage():
    settings: dict = {}
    assert ms.patch(settings, "/*/*/throttling/burstLimit", "replace", "7", DEFAULTS)
    assert settings["*/*"] == dict(DEFAULTS, throttlingBurstLimit=7)
    assert DEFAULTS["throttlingRateLimit"] == 10000.0 and DEFAULTS["cacheTtlInSeconds"] == 300
    assert ms.patch(settings, "/pets/GET/logging/loglevel", "replace", "INFO", DEFAULTS)
    assert settings["pets/GET"] == dict(DEFAULTS, throttlingBurstLimit=7, loggingLevel="INFO")
    assert ms.patch(settings, "/pets/GET/logging/loglevel", "remove", None, DEFAULTS)
    assert settings["pets/GET"]["loggingLevel"] == "OFF"
    assert not ms.patch(settings, "/description", "replace", "x", DEFAULTS)


@pytest.mark.parametrize("path, value", [("/pets/ANY/metrics/enabled", "true"), ("/pets/*/metrics/enabled", "true"),
                                         ("/*/GET/metrics/enabled", "true"), ("/*/*/metrics/nope", "true"),
                                         ("/*/*/metrics/enabled", "yes"), ("/*/*/logging/loglevel", "info"),
                                         ("/*/*/throttling/rateLimit", "-1"), ("/*/*/throttling/burstLimit", "x")])
def test_refused(path, value):
    with pytest.raises(ms.Invalid):
        ms.patch({}, path, "replace", value, DEFAULTS)


def test_effective_prefers_the_methods_own_member():
    settings = {"*/*": {"loggingLevel": "ERROR"}, "~1pets~1{id}/GET": {"loggingLevel": "INFO"},
                "pets/POST": {"loggingLevel": "OFF"}, "~1/GET": {"metricsEnabled": True}}
    assert ms.effective(settings, "/pets/{id}", "GET") == ("~1pets~1{id}/GET", {"loggingLevel": "INFO"})
    assert ms.effective(settings, "/pets", "POST")[0] == "pets/POST"
    assert ms.effective(settings, "/", "GET")[0] == "~1/GET"
    assert ms.effective(settings, "/pets", "GET")[0] == "*/*"
    assert ms.effective({"~1/GET": {}}, "/pets", "GET") is None and ms.effective({}, "/", "GET") is None
