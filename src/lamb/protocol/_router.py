"""Route (method, path) to an operation using the model's ``http.requestUri`` templates.

Templates are split into '/'-separated segments, each a literal, a ``{Label}`` or a
greedy ``{Label+}``. Templates without a greedy label are indexed by
``(method, segment count)``; inside such a bucket every distinct set of literal
positions (a "mask") has a dict from the tuple of literal values to the matching
routes. Matching a request is then one bucket lookup plus one dict lookup per mask
(usually a single mask), never a scan over regexes. Templates with greedy labels
(none in Lambda today) fall back to a per-method list of compiled regexes.

A ``requestUri`` may carry a query literal (``/2018-10-31/layers?find=LayerVersion``):
routes with such a literal are tried before the route with the same path and none,
and match only when the request's query string has those parameters.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote

from ._input import split_query

from .errors import unknown_operation

_LABEL = re.compile(r"^\{([^{}]+?)(\+?)\}$")

# Percent-decoding through urllib costs microseconds; the same few function names and
# ARNs arrive over and over on the invoke path, so decoded labels are memoized.
_DECODED: dict[str, str] = {}
_DECODED_MAX = 4096


def decode_label(value: str) -> str:
    decoded = _DECODED.get(value)
    if decoded is None:
        decoded = unquote(value) if "%" in value else value
        if len(_DECODED) >= _DECODED_MAX:
            _DECODED.clear()
        _DECODED[value] = decoded
    return decoded


class _Route:
    __slots__ = ("op", "label_positions", "query_literals")

    def __init__(self, op: Any, label_positions: tuple[tuple[int, str], ...], query_literals: tuple[tuple[str, str], ...]):
        self.op = op
        self.label_positions = label_positions
        self.query_literals = query_literals


def _split_request_uri(uri: str) -> tuple[list[str], tuple[tuple[str, str], ...]]:
    path, _, query = uri.partition("?")
    segs = path.strip("/").split("/") if path.strip("/") else []
    literals = tuple(parse_qsl(query, keep_blank_values=True)) if query else ()
    return segs, literals


def _query_has(query: str, literals: tuple[tuple[str, str], ...]) -> bool:
    if not query:
        return False
    pairs = set(split_query(query))
    for key, value in literals:
        if value == "":
            if not any(k == key for k, _ in pairs):
                return False
        elif (key, value) not in pairs:
            return False
    return True


class Router:
    def __init__(self, operations: list[Any]) -> None:
        # (method, nsegs) -> list of (mask, {literal values tuple: [routes]})
        buckets: dict[tuple[str, int], dict[tuple[int, ...], dict[tuple[str, ...], list[_Route]]]] = {}
        greedy: dict[str, list[tuple[re.Pattern[str], _Route, tuple[str, ...]]]] = {}
        for op in operations:
            method = op.http.get("method", "POST").upper()
            segs, query_literals = _split_request_uri(op.http["requestUri"])
            labels: list[tuple[int, str]] = []
            mask: list[int] = []
            literal_values: list[str] = []
            is_greedy = False
            for i, seg in enumerate(segs):
                m = _LABEL.match(seg)
                if m is None:
                    mask.append(i)
                    literal_values.append(seg)
                else:
                    labels.append((i, m.group(1)))
                    is_greedy = is_greedy or bool(m.group(2))
            route = _Route(op, tuple(labels), query_literals)
            if is_greedy:
                parts = []
                names = []
                for seg in segs:
                    m = _LABEL.match(seg)
                    if m is None:
                        parts.append(re.escape(seg))
                    else:
                        names.append(m.group(1))
                        parts.append("(.+)" if m.group(2) else "([^/]+)")
                rx = re.compile("/".join(parts))
                greedy.setdefault(method, []).append((rx, route, tuple(names)))
                continue
            masks = buckets.setdefault((method, len(segs)), {})
            table = masks.setdefault(tuple(mask), {})
            table.setdefault(tuple(literal_values), []).append(route)

        # Order masks: more literal segments first, then literals further left first.
        def mask_key(item: tuple[tuple[int, ...], Any]) -> tuple[int, tuple[int, ...]]:
            mask = item[0]
            return (-len(mask), mask)

        self._buckets: dict[tuple[str, int], tuple[tuple[tuple[int, ...], dict[tuple[str, ...], tuple[_Route, ...]]], ...]] = {}
        for key, masks in buckets.items():
            ordered = []
            for mask, table in sorted(masks.items(), key=mask_key):
                frozen = {}
                for lits, routes in table.items():
                    # Routes with query literals first (most literals first), the plain one last.
                    routes.sort(key=lambda r: -len(r.query_literals))
                    frozen[lits] = tuple(routes)
                ordered.append((mask, frozen))
            self._buckets[key] = tuple(ordered)
        for routes in greedy.values():
            # longer literal text first, so that more specific templates win
            routes.sort(key=lambda item: -len(item[0].pattern))
        self._greedy = greedy

    def route(self, method: str, path: str, query: str = "") -> tuple[Any, dict[str, str]]:
        if "?" in path:
            path, _, extra = path.partition("?")
            query = query or extra
        stripped = path.strip("/")
        segs = stripped.split("/") if stripped else []
        masks = self._buckets.get((method.upper(), len(segs)))
        if masks is not None:
            for mask, table in masks:
                if len(mask) == 1:
                    routes = table.get((segs[mask[0]],))
                elif len(mask) == 2:
                    routes = table.get((segs[mask[0]], segs[mask[1]]))
                elif len(mask) == 3:
                    routes = table.get((segs[mask[0]], segs[mask[1]], segs[mask[2]]))
                else:
                    routes = table.get(tuple([segs[i] for i in mask]))
                if routes is None:
                    continue
                for route in routes:
                    if route.query_literals and not _query_has(query, route.query_literals):
                        continue
                    labels = {}
                    ok = True
                    for pos, name in route.label_positions:
                        value = segs[pos]
                        if not value:
                            ok = False
                            break
                        labels[name] = decode_label(value) if "%" in value else value
                    if ok:
                        return route.op, labels
        for rx, route, names in self._greedy.get(method.upper(), ()):
            m = rx.fullmatch(stripped)
            if m is None:
                continue
            if route.query_literals and not _query_has(query, route.query_literals):
                continue
            return route.op, {n: decode_label(v) for n, v in zip(names, m.groups())}
        raise unknown_operation()
