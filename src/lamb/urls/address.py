"""Function URL addresses.

AWS gives each URL a 32-character lowercase id and the address
``https://<url-id>.lambda-url.<region>.on.aws/``
(https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html). Lamb serves
URLs on its own port and by default names them
``http://<url-id>.lambda-url.<region>.localhost:<port>/``: curl and browsers resolve
every ``*.localhost`` name to loopback, so the returned URL opens as it is. Clients
whose resolver does not (glibc, so Python's) use the path form
``http://<host>:<port>/_lamb/url/<url-id>/<path>`` or send the ``Host`` header.
Behind real DNS (a wildcard record and a proxy in front of Lamb) the setting
``LAMB_URL_ORIGIN`` (e.g. ``https://{id}.fn.example.com``) names the URLs Lamb hands
out, and requests whose Host is ``<url-id>.fn.example.com`` are served as URLs;
``LAMB_URL_PORT`` adds a port that serves URLs only (the one to expose).
"""

from __future__ import annotations

import secrets
import string

PATH_PREFIX = "/_lamb/url/"
_ALPHABET = string.ascii_lowercase + string.digits
ID_LENGTH = 32


def new_url_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(ID_LENGTH))


def default_origin(region: str, port: int) -> str:
    return f"http://{{id}}.lambda-url.{region}.localhost:{port}"


class Addresses:
    """Makes function URLs from an origin template and finds the url id in a request."""

    def __init__(self, origin: str):
        if "{id}" not in origin:
            raise ValueError("the function URL origin must contain {id}, e.g. https://{id}.fn.example.com")
        self.origin = origin.rstrip("/")
        host = self.origin.split("://", 1)[-1]
        after = host.split("{id}", 1)[1]
        self.suffix = after.split(":", 1)[0].lower()  # ".lambda-url.us-east-1.localhost"

    def url(self, url_id: str) -> str:
        return self.origin.replace("{id}", url_id) + "/"

    def domain(self, url_id: str) -> str:
        """The host name of a URL (requestContext.domainName)."""
        return url_id + self.suffix

    def id_from_host(self, host: str | None) -> str | None:
        """The url id a ``Host`` header names, or None when it names no function URL."""
        if not host:
            return None
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.lower()
        if not name.endswith(self.suffix):
            return None
        url_id = name[: -len(self.suffix)]
        return url_id if url_id and "." not in url_id else None

    @staticmethod
    def id_from_path(path: str) -> tuple[str, str] | None:
        """``/_lamb/url/<url-id>/<rest>`` -> (url id, ``/<rest>``)."""
        if not path.startswith(PATH_PREFIX):
            return None
        url_id, _, rest = path[len(PATH_PREFIX):].partition("/")
        return (url_id, "/" + rest) if url_id else None
