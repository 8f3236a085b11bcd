"""apis/stickiness.py: target groups' sticky sessions as a load balancer keeps them."""

from __future__ import annotations

from lamb.apis import stickiness
from lamb.apis.stickiness import Sessions, Sticky

TARGETS = [("10.0.0.1", 80), ("10.0.0.2", 80)]


def same(t):
    return t


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_attributes():
    assert stickiness.of([{"Key": "stickiness.enabled", "Value": "false"}]) is None
    assert stickiness.of([{"Key": "stickiness.enabled", "Value": "true"}]) == Sticky("lb_cookie", 86_400)
    assert stickiness.of([{"Key": "stickiness.enabled", "Value": "true"}, {"Key": "stickiness.type", "Value": "app_cookie"},
                          {"Key": "stickiness.app_cookie.cookie_name", "Value": "sess"},
                          {"Key": "stickiness.app_cookie.duration_seconds", "Value": "30"}]) == Sticky("app_cookie", 30, "sess")


def test_a_sealed_cookie_routes_while_it_lasts_and_only_in_its_group():
    clock = Clock()
    sessions = Sessions(clock=clock)
    sticky = Sticky("lb_cookie", 60)
    cookies = sessions.cookies(sticky, "g1", TARGETS[1], [], False)
    token = cookies[0][1].split(";")[0].split("=", 1)[1]
    assert [name for name, _ in cookies] == ["Set-Cookie", "Set-Cookie"]
    assert cookies[1][1].startswith(f"AWSALBCORS={token}; Expires=") and cookies[1][1].endswith("SameSite=None; Secure")
    assert sessions.choose(sticky, "g1", "link", [("Cookie", f"a=b; AWSALB={token}")], TARGETS, same) == (TARGETS[1], True)
    assert sessions.choose(sticky, "g2", "link", [("Cookie", f"AWSALB={token}")], TARGETS, same) == (None, False)
    assert sessions.choose(sticky, "g1", "link", [("Cookie", f"AWSALB={token}")], TARGETS[:1], same) == (None, False)
    assert sessions.choose(sticky, "g1", "link", [("Cookie", f"AWSALB={token[:-2]}xx")], TARGETS, same) == (None, False)
    assert Sessions().opened(token, "g1") is None  # another process's key
    clock.now += 61
    assert sessions.choose(sticky, "g1", "link", [("Cookie", f"AWSALB={token}")], TARGETS, same) == (None, False)


def test_application_cookies_start_with_the_applications_session():
    sessions = Sessions()
    sticky = Sticky("app_cookie", 60, "sess")
    assert sessions.cookies(sticky, "g", TARGETS[0], [("Content-Type", "text/plain")], False) == []
    set_app = sessions.cookies(sticky, "g", TARGETS[0], [("Set-Cookie", "sess=1; Path=/")], False)
    assert len(set_app) == 1 and set_app[0][1].startswith("AWSALBAPP-0=")
    token = set_app[0][1].split(";")[0].split("=", 1)[1]
    assert sessions.choose(sticky, "g", "l", [("cookie", f"AWSALBAPP-0={token}")], TARGETS, same) == (TARGETS[0], True)
    assert len(sessions.cookies(sticky, "g", TARGETS[0], [], True)) == 1  # refreshed while sticky


def test_source_addresses_pick_one_target_per_link():
    sessions = Sessions()
    sticky = Sticky("source_ip", 0)
    picks = {sessions.choose(sticky, "g", "vpclink-1", [], TARGETS, same)[0] for _ in range(5)}
    assert len(picks) == 1 and sessions.cookies(sticky, "g", TARGETS[0], [], False) == []
