"""Translate the Java regular expressions of botocore's ``pattern`` traits to Python ``re``.

AWS services check ``pattern`` with ``java.util.regex`` and a whole-string match.
Most of the syntax is shared with Python; the differences that change what a
pattern accepts are handled here:

* ``\\d \\s \\w`` (and their negations) are ASCII-only in Java, Unicode in Python:
  they are rewritten to explicit ASCII classes.
* ``.`` does not match any Java line terminator (``\\n \\r \\u0085 \\u2028 \\u2029``).
* ``\\p{...}`` / ``\\P{...}`` (POSIX classes, which are ASCII in Java, and Unicode
  general categories such as ``\\p{L}``) have no Python equivalent: they become
  explicit character classes.
* ``\\Q...\\E`` quoting, ``\\z``, ``\\Z``, ``\\h``, ``(?<name>...)`` and ``\\k<name>``.

Possessive quantifiers and atomic groups exist in Python 3.11 and pass through.
Callers use ``fullmatch`` (Java's ``Matcher.matches``).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache

_JAVA_LINE_TERMINATORS = "\\n\\r\\u0085\\u2028\\u2029"

# Content (without brackets) of the classes the shorthands stand for in Java.
_DIGIT = "0-9"
_SPACE = " \\t\\n\\x0b\\f\\r"
_WORD = "a-zA-Z_0-9"
_HSPACE = " \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000"
_VSPACE = "\\n\\x0b\\f\\r\\x85\\u2028\\u2029"

_SHORTHAND = {"d": _DIGIT, "s": _SPACE, "w": _WORD, "h": _HSPACE, "v": _VSPACE}

# POSIX character classes: ASCII-only in Java unless UNICODE_CHARACTER_CLASS is set.
_POSIX = {
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7f",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").replace("\\ ", " "),
    "Graph": "\\x21-\\x7e",
    "Print": "\\x20-\\x7e",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1f\\x7f",
    "XDigit": "0-9a-fA-F",
    "Space": _SPACE,
    "javaLowerCase": "a-z",
    "javaUpperCase": "A-Z",
    "javaWhitespace": _SPACE + "\\x1c-\\x1f",
}

_CATEGORY_ALIASES = {
    "Letter": "L",
    "IsLetter": "L",
    "IsL": "L",
    "IsAlphabetic": "L",
    "Alphabetic": "L",
    "IsDigit": "Nd",
    "IsLu": "Lu",
    "IsLl": "Ll",
    "IsN": "N",
    "IsP": "P",
    "IsS": "S",
    "IsZ": "Z",
    "IsWhite_Space": "Z",
}


@lru_cache(maxsize=None)
def _category_runs() -> dict[str, list[tuple[int, int]]]:
    """Runs of consecutive code points per two-letter general category, from one pass over
    Unicode (~0.2 s; a pass per category cost ~0.15 s each, paid at every start)."""
    runs: dict[str, list[tuple[int, int]]] = {}
    category = unicodedata.category
    current, start = "", 0
    for cp in range(sys.maxunicode + 1):
        cat = category(chr(cp))
        if cat != current:
            if current:
                runs.setdefault(current, []).append((start, cp - 1))
            current, start = cat, cp
    runs.setdefault(current, []).append((start, sys.maxunicode))
    return runs


@lru_cache(maxsize=None)
def _category_class(prefix: str) -> str:
    """Class content listing every code point whose general category starts with prefix."""
    ranges = sorted(r for cat, found in _category_runs().items() if cat.startswith(prefix) for r in found)
    merged: list[list[int]] = []
    for a, b in ranges:
        if merged and a == merged[-1][1] + 1:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return "".join(_cp(a) if a == b else f"{_cp(a)}-{_cp(b)}" for a, b in merged)


def _cp(cp: int) -> str:
    return f"\\U{cp:08x}"


def _property_class(name: str) -> str:
    """Class content (no brackets) for a Java ``\\p{name}``."""
    if name in _POSIX:
        return _POSIX[name]
    if name.startswith("Is") and name[2:] in _POSIX:
        return _POSIX[name[2:]]
    cat = _CATEGORY_ALIASES.get(name, name)
    if cat.startswith("Is"):
        cat = cat[2:]
    if cat.startswith("general_category="):
        cat = cat.split("=", 1)[1]
    if 1 <= len(cat) <= 2 and cat[0].isupper():
        return _category_class(cat)
    raise ValueError(f"unsupported Java character property \\p{{{name}}}")


def java_to_python(pattern: str) -> str:
    """Return a Python ``re`` pattern accepting what the Java pattern accepts."""
    out: list[str] = []
    i = 0
    n = len(pattern)
    depth = 0  # character-class nesting depth
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            e = pattern[i + 1]
            if e == "Q":  # literal quoting up to \E
                end = pattern.find("\\E", i + 2)
                lit = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                out.append(re.escape(lit) if depth == 0 else "".join("\\" + ch if not ch.isalnum() else ch for ch in lit))
                i = n if end < 0 else end + 2
                continue
            if e in "pP" and i + 2 < n:
                if pattern[i + 2] == "{":
                    close = pattern.index("}", i + 3)
                    name = pattern[i + 3 : close]
                    nxt = close + 1
                else:
                    name = pattern[i + 2]
                    nxt = i + 3
                content = _property_class(name)
                negate = e == "P"
                if name.startswith("^"):
                    negate, content = not negate, _property_class(name[1:])
                if depth == 0:
                    out.append(("[^" if negate else "[") + content + "]")
                elif not negate:
                    out.append(content)
                else:
                    raise ValueError("negated \\P inside a character class is not supported")
                i = nxt
                continue
            if e in _SHORTHAND:
                content = _SHORTHAND[e]
                out.append(f"[{content}]" if depth == 0 else content)
                i += 2
                continue
            if e in "DSWHV" and depth == 0:
                out.append(f"[^{_SHORTHAND[e.lower()]}]")
                i += 2
                continue
            if e == "z" and depth == 0:
                out.append("\\Z")
                i += 2
                continue
            if e == "Z" and depth == 0:
                out.append("(?=[" + _JAVA_LINE_TERMINATORS + "]?\\Z)")
                i += 2
                continue
            if e == "k" and i + 2 < n and pattern[i + 2] == "<":
                close = pattern.index(">", i + 3)
                out.append(f"(?P={pattern[i + 3 : close]})")
                i = close + 1
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if depth == 0:
            if c == "[":
                depth = 1
                out.append(c)
                i += 1
                # a leading ']' (after optional '^') is a literal in both dialects
                if i < n and pattern[i] == "^":
                    out.append("^")
                    i += 1
                if i < n and pattern[i] == "]":
                    out.append("\\]")
                    i += 1
                continue
            if c == ".":
                out.append("[^" + _JAVA_LINE_TERMINATORS + "]")
                i += 1
                continue
            if c == "(" and pattern.startswith("(?<", i) and i + 3 < n and pattern[i + 3] not in "=!":
                out.append("(?P<")
                i += 3
                continue
            out.append(c)
            i += 1
            continue
        # inside a character class
        if c == "[":
            # Java nested class / union: [a-z[0-9]] == [a-z0-9]; intersections are not supported.
            if pattern.startswith("[^", i):
                raise ValueError("nested negated character classes are not supported")
            depth += 1
            i += 1
            continue
        if c == "&" and pattern.startswith("&&", i):
            raise ValueError("character class intersection is not supported")
        if c == "]":
            depth -= 1
            if depth == 0:
                out.append("]")
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


@lru_cache(maxsize=None)
def compile_java(pattern: str) -> re.Pattern[str]:
    """Compile a botocore (Java) pattern for use with ``fullmatch``.

    Falls back to compiling the pattern unchanged if it uses a construct the
    translator does not handle, so a model update can never break start-up.
    """
    try:
        return re.compile(java_to_python(pattern))
    except (ValueError, re.error):
        return re.compile(pattern)
