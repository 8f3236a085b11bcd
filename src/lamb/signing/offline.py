"""``lamb sign``: sign a zip with a signing profile of a data folder, without a running Lamb.

The profile's key is opened with the data folder's master key, so this runs where the
data folder is (as ``lamb keys rotate`` does). The job is recorded in the database; a
running Lamb verifies the signed zip at once (it holds the profile), and lists the job
(DescribeSigningJob) after its next start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .signer import SignerStore

if TYPE_CHECKING:
    from ..sealing import Sealer
    from ..store.db import Database


def sign_file(db: "Database", sealer: "Sealer", *, region: str, account: str, profile_name: str,
              source: Path, destination: Path, requested_by: str) -> dict:
    """Sign ``source`` into ``destination``; returns the job. Raises ``LookupError`` (no such
    profile), ``PermissionError`` (the profile is not Active) or ``envelope.NotAZip``."""
    store = SignerStore(db, sealer, region=region, account=account)
    profile = store.profile(profile_name)
    if profile is None:
        raise LookupError(f"no signing profile {profile_name} in this data folder")
    if profile["status"] != "Active":
        raise PermissionError(f"signing profile {profile_name} is {profile['status']}: it cannot sign")
    signed = store.sign(profile, source.read_bytes(), source={"file": str(source)}, requested_by=requested_by)
    tmp = destination.with_name(destination.name + ".tmp")
    tmp.write_bytes(signed.data)
    tmp.replace(destination)
    return dict(signed.job, jobArn=store.job_arn(signed.job["jobId"]), profileVersionArn=profile["profileVersionArn"])
