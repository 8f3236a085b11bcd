"""The region a request is for: the ``<date>/<region>/<service>/aws4_request`` credential scope
of its SigV4 signature (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html).

AWS serves each region at its own endpoint; Lamb serves every region on one port, so the
signature's scope says which region's state a request reads and changes. Read without
verifying anything (``sigv4.verify`` does that when authentication is on).
"""

from __future__ import annotations

import re
from typing import Mapping
from urllib.parse import unquote

# A region name as AWS spells them (us-east-1, eu-west-3, us-gov-west-1, ap-southeast-4 ...);
# anything else cannot name a folder of Lamb's state.
_REGION = re.compile(r"[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}")


def region_of(headers: Mapping[str, str], query: str) -> str | None:
    """The credential scope's region (``headers`` keyed in lower case), or None when the
    request is unsigned or the scope names no valid region."""
    auth = headers.get("authorization")
    if auth:
        start = auth.find("Credential=")
        if start < 0:
            return None
        end = auth.find(",", start)
        credential = auth[start + 11:end] if end >= 0 else auth[start + 11:]
    elif "X-Amz-Credential=" in query:
        start = query.find("X-Amz-Credential=") + 17
        end = query.find("&", start)
        credential = unquote(query[start:end] if end >= 0 else query[start:])
    else:
        return None
    parts = credential.strip().split("/")
    if len(parts) != 5:
        return None
    region = parts[2]
    if region not in _valid:
        if not _REGION.fullmatch(region):
            return None
        if len(_valid) < 4096:
            _valid.add(region)
    return region


_valid: set[str] = set()  # regions already checked against _REGION
