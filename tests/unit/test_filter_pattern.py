"""CloudWatch Logs filter patterns (lamb.logs.filter_pattern), with the examples of AWS's syntax page."""

from __future__ import annotations

import json

import pytest

from lamb.logs.filter_pattern import InvalidPattern, compile_pattern

LINES = [
    "[ERROR] Exception: something went wrong",
    "[INFO] all good",
    "[WARN] disk almost full",
    "Task timed out after 3.00 seconds",
    "ERROR ARGUMENTS missing",
]


def matching(pattern: str, lines=LINES) -> list[str]:
    test = compile_pattern(pattern)
    return [line for line in lines if test(line)]


def test_empty_pattern_matches_everything():
    assert matching("") == LINES
    assert matching("   ") == LINES
    assert compile_pattern(None)("x")


def test_terms_are_case_sensitive_substrings_all_required():
    assert matching("ERROR") == [LINES[0], LINES[4]]
    assert matching("error") == []
    assert matching("ERROR Exception") == [LINES[0]]
    assert matching("ERROR ARGUMENTS") == [LINES[4]]


def test_quoted_phrase():
    assert matching('"Task timed out"') == [LINES[3]]
    assert matching('"timed Task"') == []
    assert matching('"[ERROR]"') == [LINES[0]]


def test_exclusion():
    assert matching("ERROR -Exception") == [LINES[4]]
    assert matching('-"all good"') == [x for x in LINES if x != LINES[1]]


def test_any_of():
    assert matching("?WARN ?INFO") == [LINES[1], LINES[2]]
    # with required terms: all of those and one of the ? terms
    assert matching("ERROR ?Exception ?missing") == [LINES[0], LINES[4]]
    assert matching("ERROR ?nothing ?none") == []


def test_regex_term():
    assert matching("%[0-9]\\.[0-9]{2} seconds%") == [LINES[3]]
    assert matching("%^\\[(WARN|INFO)\\]%") == [LINES[1], LINES[2]]


def test_unquoted_term_with_operator_characters_is_refused():
    with pytest.raises(InvalidPattern, match="Invalid character"):
        compile_pattern("a=b")


DOCS = [
    {"level": "ERROR", "latency": 120, "user": {"id": 1, "name": "ann"}, "tags": ["a", "b"], "ok": False},
    {"level": "INFO", "latency": 20, "user": {"id": 2, "name": "bob"}, "tags": ["c"], "ok": True, "gone": None},
    {"level": "WARN", "latency": "75", "user": {"id": 3}, "items": [{"id": 7}, {"id": 8}]},
]
JSON_LINES = [json.dumps(d) for d in DOCS] + ["not json at all", '{"broken": ', "[1, 2]"]


def jmatch(pattern: str) -> list[int]:
    test = compile_pattern(pattern)
    return [i for i, line in enumerate(JSON_LINES) if test(line)]


def test_json_equality_and_inequality():
    assert jmatch('{ $.level = "ERROR" }') == [0]
    assert jmatch("{ $.level = ERROR }") == [0]  # unquoted words are strings too
    assert jmatch('{ $.level != "ERROR" }') == [1, 2]  # only events that have the member
    assert jmatch('{ $.user.name = "bob" }') == [1]
    assert jmatch('{ $.level = "ER*" }') == [0]
    assert jmatch('{ $.level = "*N*" }') == [1, 2]
    assert jmatch("{ $.level = %^(INFO|WARN)$% }") == [1, 2]


def test_json_numbers():
    assert jmatch("{ $.latency > 50 }") == [0, 2]  # "75" compares as a number
    assert jmatch("{ $.latency <= 20 }") == [1]
    assert jmatch("{ $.latency = 120 }") == [0]
    assert jmatch("{ $.user.id >= 2 }") == [1, 2]


def test_json_arrays_and_keywords():
    assert jmatch('{ $.tags[1] = "b" }') == [0]
    assert jmatch('{ $.tags = "c" }') == [1]  # a member of the list
    assert jmatch("{ $.items[1].id = 8 }") == [2]
    assert jmatch("{ $.ok IS TRUE }") == [1]
    assert jmatch("{ $.ok IS FALSE }") == [0]
    assert jmatch("{ $.gone IS NULL }") == [1]
    assert jmatch("{ $.tags NOT EXISTS }") == [2]


def test_json_and_or_parentheses():
    assert jmatch('{ $.level = "ERROR" || $.level = "WARN" }') == [0, 2]
    assert jmatch('{ $.latency > 10 && $.user.id = 2 }') == [1]
    assert jmatch('{ ($.user.id = 1 && $.level = "ERROR") || $.items[0].id = 7 }') == [0, 2]
    assert jmatch('{ $.level = "INFO" || $.level = "WARN" && $.latency > 50 }') == [1, 2]  # && binds tighter


def test_json_after_a_prefix():
    test = compile_pattern('{ $.level = "ERROR" }')
    assert test('2024-01-01T00:00:00Z\tabc\t{"level": "ERROR"}')


@pytest.mark.parametrize("bad", ["{ $.level = }", "{ level = 1 }", "{ $.a = 1 &&", "{ $.a > x }",
                                 "{ $.a = 1", "{ ($.a = 1 }", "{ }", "{ $.a IS MAYBE }", "[a, , b]"])
def test_invalid_patterns(bad):
    with pytest.raises(InvalidPattern):
        compile_pattern(bad)


APACHE = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
    '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
    '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /x HTTP/1.0" 500 900',
    "too few fields",
]


def dmatch(pattern: str) -> list[int]:
    test = compile_pattern(pattern)
    return [i for i, line in enumerate(APACHE) if test(line)]


def test_space_delimited_fields():
    assert dmatch("[ip, identity, user, timestamp, request, status, bytes]") == [0, 1, 2]
    assert dmatch("[ip, identity, user, timestamp, request, status = 404, bytes]") == [0]
    assert dmatch("[ip, identity, user, timestamp, request, status = 4*, bytes > 1000]") == [0]
    assert dmatch("[ip, identity, user, timestamp, request = *gif*, status, bytes]") == [1]
    assert dmatch("[ip, identity, user = frank, timestamp, request, status != 200, bytes < 1000]") == [2]
    assert dmatch("[ip, identity, user, timestamp, request, status = 404 || status = 500, bytes]") == [0, 2]


def test_space_delimited_ellipsis():
    assert dmatch("[..., status = 200, bytes]") == [1]
    assert dmatch("[ip, ..., bytes > 2000]") == [1]
    assert dmatch("[a, b, c]") == [3]
    assert dmatch("[...]") == [0, 1, 2, 3]


def test_needs_name_bytes_every_match_holds():
    assert compile_pattern("ERROR -x ?a").needs == (b"ERROR",)
    assert compile_pattern('"Task timed out" ERROR').needs == (b"Task timed out", b"ERROR")
    assert compile_pattern('{ $.level = "ERROR" && $.n > 2 }').needs == (b"{", b'"ERROR"')
    assert compile_pattern('{ $.level = "ERROR" || $.level = "WARN" }').needs == (b"{",)  # neither is needed
    assert compile_pattern('{ $.a = "x" && ($.b = "y" || $.b = "y") }').needs == (b"{", b'"x"', b'"y"')
    assert compile_pattern("{ $.code = 404 }").needs == (b"{",)  # numbers print in more than one way
    assert compile_pattern('{ $.code = "4*" }').needs == (b"{",)
