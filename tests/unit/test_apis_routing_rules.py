"""apis/routing_rules.py: a routing rule's checks, and how a request matches rules by priority."""

import pytest

from lamb.apis import routing_rules as rr
from lamb.protocol.errors import AwsError

INVOKE = [{"InvokeApi": {"ApiId": "abc123", "Stage": "live"}}]


def _rule(rid, priority, *conds, api="abc123", strip=False):
    return {"id": rid, "Priority": priority, "Conditions": list(conds),
            "Actions": [{"InvokeApi": {"ApiId": api, "Stage": "live", "StripBasePath": strip}}]}


def _h(name, glob):
    return {"MatchHeaders": {"AnyOf": [{"Header": name, "ValueGlob": glob}]}}


def _p(path):
    return {"MatchBasePaths": {"AnyOf": [path]}}


def test_priorities_actions_and_conditions_are_checked():
    rr.check([], INVOKE, 1)
    rr.check([_h("x-version", "beta"), _h("Hello", "*orl*"), _p("users/v1")], INVOKE, 1_000_000)
    refusals = [
        ([], INVOKE, 0), ([], INVOKE, 1_000_001), ([], INVOKE, True),
        ([], [], 5), ([], INVOKE * 2, 5), ([], [{"InvokeApi": {"ApiId": "a"}}], 5),
        ([_h("a", "1"), _h("b", "2"), _h("c", "3")], INVOKE, 5),  # three header conditions
        ([_p("a"), _p("b")], INVOKE, 5),  # two base path conditions
        ([{"MatchHeaders": {"AnyOf": [{"Header": "a", "ValueGlob": "1"}, {"Header": "b", "ValueGlob": "2"}]}}],
         INVOKE, 5),
        ([{**_h("a", "1"), **_p("x")}], INVOKE, 5),  # both in one condition
        ([_h("x-v", "a*b")], INVOKE, 5), ([_h("x-v", "**")], INVOKE, 5), ([_h("x-v", "")], INVOKE, 5),
        ([_h("Authorization", "x")], INVOKE, 5), ([_h("X-Amz-Date", "x")], INVOKE, 5),
        ([_h("access-control-allow-origin", "x")], INVOKE, 5), ([_h("bad name", "x")], INVOKE, 5),
        ([_p("/users")], INVOKE, 5), ([_p("a//b")], INVOKE, 5), ([_p("x" * 301)], INVOKE, 5),
    ]
    for conds, actions, priority in refusals:
        with pytest.raises(AwsError) as e:
            rr.check(conds, actions, priority)
        assert (e.value.code, e.value.status) == ("BadRequestException", 400), (conds, actions, priority)


def test_rules_match_by_priority_with_globs_and_whole_level_base_paths():
    rules = rr.ordered({
        "r30": _rule("r30", 30),  # catch-all
        "r10": _rule("r10", 10, _h("X-Version", "beta"), _p("users"), api="beta", strip=True),
        "r20": _rule("r20", 20, _h("x-version", "a*"), api="a"),
        "r25": _rule("r25", 25, _h("x-tier", "*gold"), _h("x-region", "*eu*"), api="gold"),
        "r5": _rule("r5", 5, _h("x-any", "*"), api="any"),
    })
    assert [r.priority for r in rules] == [5, 10, 20, 25, 30]

    def to(path, **headers):
        rule = rr.first_match(rules, {k.replace("_", "-"): v for k, v in headers.items()}, path)
        return rule.api_id, rr.routed_path(rule, path)

    assert to("/users/7", x_version="beta") == ("beta", "/7")  # base path stripped
    assert to("/users", x_version="beta") == ("beta", "/")
    assert to("/usersx/7", x_version="beta") == ("abc123", "/usersx/7")  # not a whole level: the catch-all
    assert to("/users/7", x_version="Beta") == ("abc123", "/users/7")  # values are case-sensitive
    assert to("/users/7", x_version="alpha") == ("a", "/users/7")  # prefix glob, nothing stripped
    assert to("/", x_tier="platinum-gold", x_region="prod-eu-west") == ("gold", "/")  # suffix and contains
    assert to("/", x_tier="gold-2", x_region="eu") == ("abc123", "/")
    assert to("/", x_any="") == ("any", "/")  # "*": the header is present
    assert rr.first_match(rr.ordered({"r": _rule("r", 1, _p("a/b"))}), {}, "/a/bc") is None
