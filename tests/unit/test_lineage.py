"""The X-Ray trace header's Root and Lineage (lamb.services.lineage)."""

import re

from lamb.services import lineage

ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"
ROOT = r"1-[0-9a-f]{8}-[0-9a-f]{24}"


def _without_parent(header: str) -> str:
    return re.sub(r"Parent=[0-9a-f]{16}", "Parent=P", header)


def test_a_request_without_a_header_starts_a_chain():
    header = lineage.with_root(None)
    assert re.fullmatch(f"Root={ROOT}", header) and lineage.with_root("") != header
    assert lineage.with_root("Sampled=1;Root=1-a-b") == "Sampled=1;Root=1-a-b"  # kept as it came
    assert re.fullmatch(f"Root={ROOT};Sampled=1", lineage.with_root("Sampled=1"))


def test_the_first_hop_from_a_root_alone_is_the_general_one():
    """A header of only a Root (what ``with_root`` makes) takes a shorter way to the same header."""
    for cause in ("Root=1-5f0e8a1b-0123456789abcdef01234567", lineage.with_root(None)):
        header, count = lineage.hop(cause, ARN)
        general, general_count = lineage.hop(cause + ";Other=x", ARN)  # (the general way drops Other)
        assert (_without_parent(header), count) == (_without_parent(general), general_count)
        assert header.endswith(f";Sampled=?;Lineage=1:{lineage.function_hash(ARN)}:0") and count == 0
    for odd in ("Root=", "Root= 1-a-b", "Root=1-a-b;Lineage=1:%s:3" % lineage.function_hash(ARN)):
        header, count = lineage.hop(odd, ARN)
        assert header.startswith("Root=1-") and count == (4 if "Lineage" in odd else 0)
