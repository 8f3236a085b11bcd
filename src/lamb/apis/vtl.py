"""API Gateway's mapping templates: Velocity (VTL, evaluated by ``airspeed``) with AWS's variables.

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html:

- ``$input.body`` (the payload as a string), ``$input.json(x)`` (a JSONPath's value as JSON text),
  ``$input.path(x)`` (the value itself: maps, lists, strings, numbers), ``$input.params()`` (``path``,
  ``querystring`` and ``header`` maps) and ``$input.params(x)`` (a parameter by name, looked up in
  that order);
- ``$context`` (the request's ``$context`` variables), ``$stageVariables``;
- ``$util.escapeJavaScript``, ``parseJson``, ``urlEncode``/``urlDecode`` (Java's form encoding),
  ``base64Encode``/``base64Decode``.

Values print as Java prints them (``true``, ``{a=1, b=2}``, ``[1, 2]``); a JSON null, a member a map
lacks and anything reached through one print as nothing, as API Gateway's templates do (the console's
"Method Request passthrough" template gives ``"account-id" : ""``). JSONPath: ``$``, ``.name``,
``['name']``, ``[n]`` (negative too), ``[*]`` and ``.*``, and ``..name`` (recursive descent). Pure.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Mapping
from urllib.parse import quote_plus, unquote_plus

import airspeed


class TemplateError(Exception):
    """A template that does not parse or fails to evaluate (API Gateway answers 500)."""


# ---------------------------------------------------------------- Java-like values
class _Nothing(str):
    """Null: prints as nothing, is false and equal to ``""``; its members and calls are null too."""

    def __getattr__(self, name: str) -> "_Nothing":
        if name.startswith("__"):
            raise AttributeError(name)
        return NOTHING

    def __getitem__(self, key: Any) -> "_Nothing":
        return NOTHING

    def __call__(self, *args: Any) -> "_Nothing":
        return NOTHING


NOTHING = _Nothing("")


class JMap(dict):
    def __missing__(self, key: Any) -> Any:
        if isinstance(key, str) and (hasattr(dict, key) or key in _MAP_METHODS):
            raise KeyError(key)  # a method (``$map.get(...)``, ``$map.size()``), not a member
        return NOTHING

    def __str__(self) -> str:
        return "{" + ", ".join(f"{k}={_text(v)}" for k, v in self.items()) + "}"

    __repr__ = __str__


class JList(list):
    def __str__(self) -> str:
        return "[" + ", ".join(_text(v) for v in self) + "]"

    __repr__ = __str__


class JBool(int):
    """A JSON boolean: true in ``#if`` and equal to ``true``, printed as Java prints it."""

    def __str__(self) -> str:
        return "true" if self else "false"

    __repr__ = __str__


# Velocity's methods on maps and lists (``$list.size()``) for these types too.
_MAP_METHODS = dict(airspeed.__additional_methods__[dict], size=len,
                    containsKey=lambda self, key: JBool(key in self))
airspeed.__additional_methods__.setdefault(JMap, _MAP_METHODS)
airspeed.__additional_methods__.setdefault(JList, airspeed.__additional_methods__[list])


def _text(v: Any) -> str:
    return "null" if v is None or v is NOTHING else str(v)


def java(value: Any) -> Any:
    """A JSON value as a template sees it."""
    if value is None:
        return NOTHING
    if isinstance(value, bool):
        return JBool(value)
    if isinstance(value, dict):
        return JMap((k, java(v)) for k, v in value.items())
    if isinstance(value, list):
        return JList(java(v) for v in value)
    return value


# ---------------------------------------------------------------- JSONPath
_STEP = re.compile(r"""\.\.(?P<deep>[A-Za-z0-9_$-]+|\*)|\.(?P<name>[A-Za-z0-9_$-]+|\*)|\[\s*(?:'(?P<q1>[^']*)'|"(?P<q2>[^"]*)"|(?P<index>-?\d+)|(?P<star>\*))\s*\]""")
_ALL = object()


def _steps(path: str) -> list[tuple[str, Any]]:
    path = path.strip()
    if not path.startswith("$"):
        raise TemplateError(f"Invalid JSONPath: {path}")
    steps, pos = [], 1
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None:
            raise TemplateError(f"Invalid JSONPath: {path}")
        if m.group("deep") is not None:
            steps.append(("deep", _ALL if m.group("deep") == "*" else m.group("deep")))
        elif m.group("name") is not None:
            steps.append(("key", _ALL if m.group("name") == "*" else m.group("name")))
        elif m.group("index") is not None:
            steps.append(("index", int(m.group("index"))))
        elif m.group("star") is not None:
            steps.append(("key", _ALL))
        else:
            steps.append(("key", m.group("q1") if m.group("q1") is not None else m.group("q2")))
        pos = m.end()
    return steps


def _descend(value: Any):
    yield value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        yield from _descend(child)


def json_path(document: Any, path: str) -> Any:
    """The value at ``path`` (a list when the path has a wildcard or descent; None when absent)."""
    found, many = [document], False
    for kind, arg in _steps(path):
        out = []
        for value in found:
            if kind == "index":
                if isinstance(value, list) and -len(value) <= arg < len(value):
                    out.append(value[arg])
            elif kind == "key" and arg is _ALL:
                many = True
                out += list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else []
            elif kind == "key":
                if isinstance(value, dict) and arg in value:
                    out.append(value[arg])
            else:
                many = True
                for node in _descend(value):
                    if isinstance(node, dict):
                        out += list(node.values()) if arg is _ALL else [node[arg]] if arg in node else []
        found = out
    if many:
        return found
    return found[0] if found else None


# ---------------------------------------------------------------- $input and $util
class Input:
    """``$input`` over a payload (bytes or text) and the request's parameters."""

    def __init__(self, body: bytes | str, params: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.body = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        self._params = params or {"path": {}, "querystring": {}, "header": {}}
        self._doc: Any = None
        self._parsed = False

    def _document(self) -> Any:
        if not self._parsed:
            self._parsed = True
            try:
                self._doc = json.loads(self.body) if self.body.strip() else {}
            except ValueError:
                self._doc = self.body  # not JSON: ``$`` is the text itself
        return self._doc

    def json(self, path: str = "$") -> str:
        return json.dumps(json_path(self._document(), path), separators=(",", ":"))

    def path(self, path: str = "$") -> Any:
        return java(json_path(self._document(), path))

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return JMap((k, JMap(v)) for k, v in self._params.items())
        for where in ("path", "querystring", "header"):
            values = self._params.get(where) or {}
            if where == "header":
                found = next((v for k, v in values.items() if k.lower() == name.lower()), None)
            else:
                found = values.get(name)
            if found is not None:
                return found
        return ""


_JS_ESCAPES = {"\b": "\\b", "\n": "\\n", "\t": "\\t", "\f": "\\f", "\r": "\\r", "'": "\\'", '"': '\\"',
               "\\": "\\\\", "/": "\\/"}


def escape_javascript(text: Any) -> str:
    """Java's ``StringEscapeUtils.escapeJavaScript`` (commons-lang), as API Gateway's ``$util`` uses it."""
    out = []
    for c in str(text):
        code = ord(c)
        if c in _JS_ESCAPES:
            out.append(_JS_ESCAPES[c])
        elif code < 32 or code > 0x7F:
            out.append("".join(f"\\u{unit:04X}" for unit in _utf16(c)))
        else:
            out.append(c)
    return "".join(out)


def _utf16(c: str) -> list[int]:
    data = c.encode("utf-16-be")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


class Util:
    @staticmethod
    def escapeJavaScript(text: Any) -> str:  # noqa: N802 - AWS's names
        return escape_javascript(text)

    @staticmethod
    def parseJson(text: str) -> Any:  # noqa: N802
        try:
            return java(json.loads(text))
        except (TypeError, ValueError) as e:
            raise TemplateError(f"$util.parseJson: {e}") from None

    @staticmethod
    def urlEncode(text: Any) -> str:  # noqa: N802
        return quote_plus(str(text), safe="*")

    @staticmethod
    def urlDecode(text: Any) -> str:  # noqa: N802
        return unquote_plus(str(text))

    @staticmethod
    def base64Encode(text: Any) -> str:  # noqa: N802
        data = text if isinstance(text, bytes) else str(text).encode()
        return base64.b64encode(data).decode()

    @staticmethod
    def base64Decode(text: Any) -> str:  # noqa: N802
        try:
            return base64.b64decode(str(text)).decode("utf-8", "replace")
        except ValueError as e:
            raise TemplateError(f"$util.base64Decode: {e}") from None


_compiled: dict[str, airspeed.Template] = {}


def render(template: str, *, body: bytes | str = b"", params: Mapping[str, Mapping[str, str]] | None = None,
           context: Mapping[str, Any] | None = None, stage_variables: Mapping[str, str] | None = None) -> str:
    """The template evaluated for one request or response; raises ``TemplateError``."""
    compiled = _compiled.get(template)
    if compiled is None:
        compiled = airspeed.Template(template)
        if len(_compiled) < 1024:
            _compiled[template] = compiled
    namespace = {"input": Input(body, params), "util": Util(), "context": java(dict(context or {})),
                 "stageVariables": java(dict(stage_variables or {}))}
    try:
        return compiled.merge(namespace)
    except TemplateError:
        raise
    except Exception as e:  # airspeed's parse and evaluation errors
        raise TemplateError(str(e)) from None


def pick(templates: Mapping[str, str] | None, content_type: str | None) -> str | None:
    """The template for a content type (its media type without parameters), else None."""
    if not templates:
        return None
    media = (content_type or "application/json").split(";", 1)[0].strip().lower()
    for key, value in templates.items():
        if key.lower() == media:
            return value
    return None


__all__ = ["TemplateError", "render", "pick", "json_path", "escape_javascript", "Input", "Util", "java"]
