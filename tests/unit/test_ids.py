"""Request ids (lamb.ids): version 4 UUIDs as ``str(uuid.uuid4())`` writes them."""

import re
import uuid

from lamb.ids import request_id


def test_request_ids_are_random_version_4_uuids():
    ids = [request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for rid in ids:
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", rid), rid
        u = uuid.UUID(rid)
        assert (u.version, u.variant, str(u)) == (4, uuid.RFC_4122, rid)
