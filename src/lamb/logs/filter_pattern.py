"""CloudWatch Logs filter patterns: text terms, JSON selectors and space-delimited fields. Pure.

The syntax is AWS's
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html), the
one FilterLogEvents, StartLiveTail, metric and subscription filters share:

- **terms**: ``ERROR Exception`` matches an event holding every term (case-sensitive
  substrings); ``"Task timed out"`` a quoted phrase; ``-DEBUG`` excludes; ``?ERROR ?WARN``
  matches any of the ``?`` terms (with other terms: all of those and one of these);
  ``%regex%`` a regular expression;
- **JSON**: ``{ $.level = "ERROR" }`` on events that are JSON objects: selectors ``$.a.b``,
  ``$.list[0]``; ``=`` / ``!=`` against strings (``*`` wildcards, unquoted words, ``%regex%``)
  or numbers; ``<``, ``<=``, ``>``, ``>=`` on numbers; ``IS TRUE``, ``IS FALSE``, ``IS NULL``,
  ``NOT EXISTS``; ``&&``, ``||`` and parentheses;
- **space-delimited**: ``[ip, user, ..., status = 4*, bytes > 1000]`` names the fields of
  an event split at spaces (text in ``"…"`` or ``[…]`` is one field); ``...`` stands for any
  number of fields; a field's conditions take the JSON operators, joined by ``&&`` / ``||``.

``compile_pattern(text)`` returns ``matches(message) -> bool``; a pattern that does not
parse raises ``InvalidPattern`` with the message FilterLogEvents answers. The matcher's
``needs`` lists UTF-8 byte strings every matching event holds (its required terms, ``{``
for JSON), so a reader can pass over raw lines without them undecoded.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

Matcher = Callable[[str], bool]

INVALID = "Invalid filter pattern"  # AWS's InvalidParameterException text for a pattern it cannot read


class InvalidPattern(ValueError):
    pass


def compile_pattern(text: str | None) -> Matcher:
    """The matcher for ``text``; an empty or blank pattern matches every event."""
    text = (text or "").strip()
    if not text:
        return _always
    if text.startswith("{"):
        if not text.endswith("}"):
            raise InvalidPattern(INVALID)
        parser = _JsonParser(_tokens(text[1:-1]))
        test = parser.parse()
        return _needing(lambda message: _json_match(test, message), [b"{", *parser.needs_of(test)])
    if text.startswith("["):
        if not text.endswith("]"):
            raise InvalidPattern(INVALID)
        return _delimited(text[1:-1])
    return _terms(text)


def _always(_message: str) -> bool:
    return True


# --------------------------------------------------------------------- terms
_TERM = re.compile(r'\s*([-?]?)(?:"((?:[^"\\]|\\.)*)"|(%(?:[^%\\]|\\.)+%)|([^\s"]+))')


def _terms(text: str) -> Matcher:
    required: list[Matcher] = []
    excluded: list[Matcher] = []
    any_of: list[Matcher] = []
    needs: list[bytes] = []
    pos = 0
    while pos < len(text):
        m = _TERM.match(text, pos)
        if m is None:
            if text[pos:].strip():
                raise InvalidPattern(INVALID)
            break
        pos = m.end()
        sign, phrase, regex, word = m.groups()
        literal = None
        if phrase is not None:
            literal = re.sub(r"\\(.)", r"\1", phrase)
            test = _contains(literal)
        elif regex is not None:
            test = _regex(regex[1:-1])
        else:
            if any(c in word for c in "{}[]()=<>&|,"):
                raise InvalidPattern(f"Invalid character(s) in term '{word}'")
            literal = word
            test = _contains(word)
        (excluded if sign == "-" else any_of if sign == "?" else required).append(test)
        if not sign and literal:
            needs.append(literal.encode("utf-8"))

    def matches(message: str) -> bool:
        for t in required:
            if not t(message):
                return False
        for t in excluded:
            if t(message):
                return False
        return not any_of or any(t(message) for t in any_of)

    return _needing(matches, needs)


def _needing(matches: Matcher, needs: list[bytes]) -> Matcher:
    matches.needs = tuple(needs)  # type: ignore[attr-defined]
    return matches


def _contains(term: str) -> Matcher:
    return lambda message: term in message


def _regex(source: str) -> Matcher:
    try:
        rx = re.compile(source)
    except re.error:
        raise InvalidPattern(INVALID) from None
    return lambda message: rx.search(message) is not None


# ------------------------------------------------------------- shared tokens
_TOKEN = re.compile(
    r'\s*(?:(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\)|,)'
    r'|"(?P<str>(?:[^"\\]|\\.)*)"'
    r'|(?P<re>%(?:[^%\\]|\\.)+%)'
    r'|(?P<word>[^\s()=!<>&|,"]+))'
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise InvalidPattern(INVALID)
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)  # type: ignore[arg-type]
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value)
        out.append((kind, value))  # type: ignore[arg-type]
    return out


Comparison = Callable[[Any, bool], bool]  # (value, present) -> bool


def _value_test(op: str, kind: str, raw: str) -> Comparison:
    """A comparison of one value (``op`` ``raw``), for JSON members and delimited fields alike."""
    if op in ("<", "<=", ">", ">="):
        number = _number(raw) if kind == "word" else None
        if number is None:
            raise InvalidPattern(INVALID)
        compare = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}[op]
        return lambda v, present: present and (n := _as_number(v)) is not None and compare(n, number)
    if kind == "re":
        rx = _regex(raw[1:-1])
        test: Callable[[Any], bool] = lambda v: _is_text(v) and rx(str(v))  # noqa: E731
    else:
        number = _number(raw) if kind == "word" else None
        if number is not None:
            test = lambda v: (n := _as_number(v)) is not None and n == number  # noqa: E731
        else:
            glob = _glob(raw)
            test = lambda v: _is_text(v) and glob(_text(v))  # noqa: E731
    if op == "=":
        return lambda v, present: present and test(v)
    return lambda v, present: present and not test(v)


def _is_text(v: Any) -> bool:
    return isinstance(v, (str, int, float)) and not isinstance(v, bool)


def _text(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def _number(raw: str) -> float | None:
    try:
        return float(raw)
    except ValueError:
        return None


def _as_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        return _number(v)
    return None


def _glob(raw: str) -> Callable[[str], bool]:
    if "*" not in raw:
        return lambda s: s == raw
    rx = re.compile("".join(".*" if c == "*" else re.escape(c) for c in raw), re.S)
    return lambda s: rx.fullmatch(s) is not None


# ---------------------------------------------------------------------- JSON
_SELECTOR = re.compile(r"\$((?:\.[^.\[\]]+|\[\d+\])*)$")
_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")

JsonTest = Callable[[Any], bool]


class _JsonParser:
    """``expr := and ('||' and)*; and := unary ('&&' unary)*; unary := '(' expr ')' | comparison``."""

    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.i = 0
        # bytes every event a test matches holds (a quoted string value compared with =), by id of the
        # test (each test is kept alive by the closure that joins it, so ids are not reused meanwhile)
        self.needs: dict[int, frozenset[bytes]] = {}

    def parse(self) -> JsonTest:
        if not self.tokens:
            raise InvalidPattern(INVALID)
        test = self._or()
        if self.i != len(self.tokens):
            raise InvalidPattern(INVALID)
        return test

    def needs_of(self, test: JsonTest) -> list[bytes]:
        return sorted(self.needs.get(id(test), ()))

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _next(self) -> tuple[str, str]:
        tok = self._peek()
        if tok is None:
            raise InvalidPattern(INVALID)
        self.i += 1
        return tok

    def _or(self) -> JsonTest:
        return self._joined("||", self._and, any)

    def _and(self) -> JsonTest:
        return self._joined("&&", self._unary, all)

    def _joined(self, op: str, operand: Callable[[], JsonTest], combine: Callable[[Any], bool]) -> JsonTest:
        parts = [operand()]
        while self._peek() == ("op", op):
            self.i += 1
            parts.append(operand())
        if len(parts) == 1:
            return parts[0]
        joined: JsonTest = lambda doc: combine(p(doc) for p in parts)  # noqa: E731
        sets = [self.needs.get(id(p), frozenset()) for p in parts]
        # all of the parts: what any of them needs; one of them: only what all of them need
        self.needs[id(joined)] = frozenset().union(*sets) if op == "&&" else frozenset.intersection(*sets)
        return joined

    def _unary(self) -> JsonTest:
        if self._peek() == ("op", "("):
            self.i += 1
            inner = self._or()
            if self._next() != ("op", ")"):
                raise InvalidPattern(INVALID)
            return inner
        kind, selector = self._next()
        if kind != "word":
            raise InvalidPattern(INVALID)
        path = _selector(selector)
        kind, op = self._next()
        if kind == "word" and op.upper() in ("IS", "NOT"):
            _, word = self._next()
            check = _keyword(op.upper(), word.upper())
            return lambda doc: check(*_select(doc, path))
        if kind != "op" or op not in ("=", "!=", "<", "<=", ">", ">="):
            raise InvalidPattern(INVALID)
        vkind, raw = self._next()
        if vkind == "op":
            raise InvalidPattern(INVALID)
        compare = _value_test(op, vkind, raw)
        test: JsonTest = lambda doc: _select_compare(doc, path, compare)  # noqa: E731
        if op == "=" and vkind in ("str", "word") and _LITERAL.fullmatch(raw) and raw not in ("Infinity", "NaN"):
            self.needs[id(test)] = frozenset([b'"' + raw.encode() + b'"'])  # written as is in any JSON text
        return test


# A string value that JSON writes unescaped and that no number prints as (it has a letter).
_LITERAL = re.compile(r"(?=[^A-Za-z]*[A-Za-z])[A-Za-z0-9_.:@ -]+")


def _keyword(op: str, word: str) -> Comparison:
    if op == "IS" and word == "TRUE":
        return lambda v, present: present and v is True
    if op == "IS" and word == "FALSE":
        return lambda v, present: present and v is False
    if op == "IS" and word == "NULL":
        return lambda v, present: present and v is None
    if op == "NOT" and word == "EXISTS":
        return lambda v, present: not present
    raise InvalidPattern(INVALID)


def _selector(text: str) -> list[str | int]:
    m = _SELECTOR.match(text)
    if m is None or not m.group(1):
        raise InvalidPattern(INVALID)
    return [int(idx) if idx else key for key, idx in _STEP.findall(m.group(1))]


def _select(doc: Any, path: list[str | int]) -> tuple[Any, bool]:
    for step in path:
        if isinstance(step, int):
            if not isinstance(doc, list) or step >= len(doc):
                return None, False
            doc = doc[step]
        else:
            if not isinstance(doc, dict) or step not in doc:
                return None, False
            doc = doc[step]
    return doc, True


def _select_compare(doc: Any, path: list[str | int], compare: Comparison) -> bool:
    """A comparison on the selected value; ``$.list = x`` also matches a member of a list."""
    value, present = _select(doc, path)
    if present and isinstance(value, list):
        return any(compare(v, True) for v in value) or compare(value, True)
    return compare(value, present)


def _json_match(test: JsonTest, message: str) -> bool:
    start = message.find("{")
    if start < 0:
        return False
    try:
        doc = json.loads(message[start:])
    except ValueError:
        return False
    return isinstance(doc, dict) and test(doc)


# ----------------------------------------------------------- space-delimited
_FIELD = re.compile(r'"[^"]*"|\[[^\]]*\]|\S+')
ELLIPSIS = "..."


def _delimited(spec: str) -> Matcher:
    names: list[str] = []
    tests: list[tuple[int, JsonTest]] = []
    for raw in _split_fields(spec):
        tokens = _tokens(raw)
        if not tokens or tokens[0][0] != "word":
            raise InvalidPattern(INVALID)
        name = tokens[0][1]
        if name == ELLIPSIS and len(tokens) == 1:
            names.append(ELLIPSIS)
            continue
        names.append(name)
        if len(tokens) > 1:
            tests.append((len(names) - 1, _FieldParser(tokens, name).parse()))
    if names.count(ELLIPSIS) > 1 and any(n != ELLIPSIS for n in names[names.index(ELLIPSIS) + 1:]):
        # Fields between two ellipses have no fixed position; AWS also refuses them.
        middle = names[names.index(ELLIPSIS) + 1:len(names) - names[::-1].index(ELLIPSIS) - 1]
        if any(n != ELLIPSIS for n in middle):
            raise InvalidPattern(INVALID)

    def matches(message: str) -> bool:
        fields = [_unwrap(f) for f in _FIELD.findall(message)]
        positions = _positions(names, len(fields))
        if positions is None:
            return False
        return all(test(fields[positions[i]]) for i, test in tests)

    return matches


def _split_fields(spec: str) -> list[str]:
    """The comma-separated items of a ``[…]`` pattern (commas inside quotes kept)."""
    out, cur, quoted = [], [], False
    for c in spec:
        if c == '"':
            quoted = not quoted
        if c == "," and not quoted:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
    out.append("".join(cur).strip())
    if any(not item for item in out):
        raise InvalidPattern(INVALID)
    return out


def _unwrap(field: str) -> str:
    if len(field) >= 2 and (field[0], field[-1]) in (('"', '"'), ("[", "]")):
        return field[1:-1]
    return field


def _positions(names: list[str], count: int) -> dict[int, int] | None:
    """Pattern position -> field index, or None if the event has the wrong number of fields."""
    if ELLIPSIS not in names:
        return {i: i for i in range(len(names))} if len(names) == count else None
    first = names.index(ELLIPSIS)
    last = len(names) - 1 - names[::-1].index(ELLIPSIS)
    before, after = first, len(names) - 1 - last
    if before + after > count:
        return None
    out = {i: i for i in range(before)}
    for k in range(after):
        out[last + 1 + k] = count - after + k
    return out


class _FieldParser(_JsonParser):
    """A delimited field's conditions: ``status = 4* || status = 5*`` (its own name only)."""

    def __init__(self, tokens: list[tuple[str, str]], name: str):
        super().__init__(tokens)
        self.name = name

    def _unary(self) -> JsonTest:
        if self._peek() == ("op", "("):
            return super()._unary()
        kind, name = self._next()
        if kind != "word" or name != self.name:
            raise InvalidPattern(INVALID)
        kind, op = self._next()
        if kind != "op" or op not in ("=", "!=", "<", "<=", ">", ">="):
            raise InvalidPattern(INVALID)
        vkind, raw = self._next()
        if vkind == "op":
            raise InvalidPattern(INVALID)
        compare = _value_test(op, vkind, raw)
        return lambda field: compare(field, True)
