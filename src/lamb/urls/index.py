"""Which function (and alias) a url id names.

The URL configuration lives in the record it belongs to (``policy.resources``); this
index maps url ids to ``(function name, alias or None)`` so a request is routed with
one dict lookup. Every lookup is checked against the record, so an entry left behind
by a deleted function, alias or URL answers as missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..policy.resources import Resource

if TYPE_CHECKING:
    from ..store.functions import FunctionStore


class UrlIndex:
    def __init__(self, functions: "FunctionStore"):
        self.functions = functions
        self.ids: dict[str, tuple[str, str | None]] = {}
        for fn in functions.functions.values():
            url = fn.latest.get("_Url")
            if url:
                self.ids[url["UrlId"]] = (fn.name, None)
            for alias, record in fn.aliases.items():
                if record.get("_Url"):
                    self.ids[record["_Url"]["UrlId"]] = (fn.name, alias)

    def add(self, url_id: str, function: str, alias: str | None) -> None:
        self.ids[url_id] = (function, alias)

    def seen(self, url_id: str) -> bool:
        """Whether this url id existed since Lamb started (it may have been deleted)."""
        return url_id in self.ids

    def lookup(self, url_id: str) -> tuple[Resource, dict] | None:
        """The record holding the URL and the URL's configuration, or None."""
        where = self.ids.get(url_id)
        if where is None:
            return None
        fn = self.functions.get(where[0])
        if fn is None:
            return None
        record = fn.aliases.get(where[1]) if where[1] is not None else fn.latest
        url = record.get("_Url") if record is not None else None
        if url is None or url["UrlId"] != url_id:
            return None
        return Resource(fn, where[1], where[1] is not None), url
