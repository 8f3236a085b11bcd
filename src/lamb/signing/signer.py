"""Signing profiles and signing jobs, as AWS Signer keeps them
(https://docs.aws.amazon.com/signer/latest/developerguide/Welcome.html).

A profile has one version (``profileVersion``, 10 alphanumerics); its ECDSA P-384 key
is made when the profile is put and kept sealed under Lamb's master key
(``lamb.sealing``, bound to the profile version ARN), so a copy of the database reveals
no signing key. Statuses as AWS documents them:

* ``Canceled`` (CancelSigningProfile): no new signing jobs; signatures made before stay valid.
* ``Revoked`` (RevokeSigningProfile): signatures made at or after ``effectiveTime`` are not trusted.
* A job's signature alone is revoked with RevokeSignature.

A signature expires ``signatureValidityPeriod`` after it was made (AWS's default: 135 months).
"""

from __future__ import annotations

import calendar
import secrets
import string
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from . import envelope
from .docs import Documents

if TYPE_CHECKING:
    from ..sealing import Sealer
    from ..store.db import Database

PLATFORM = "AWSLambda-SHA384-ECDSA"
PLATFORM_DISPLAY_NAME = "AWS Lambda"
DEFAULT_VALIDITY = {"value": 135, "type": "MONTHS"}  # AWS Signer's default signatureValidityPeriod
_ALNUM = string.ascii_letters + string.digits


def add_period(start: float, period: dict) -> int:
    """``start`` plus a signatureValidityPeriod (calendar months and years, as AWS counts them)."""
    value, kind = int(period["value"]), period["type"]
    if kind == "DAYS":
        return int(start + value * 86400)
    months = value * (12 if kind == "YEARS" else 1)
    t = time.gmtime(start)
    year, month = divmod(t.tm_mon - 1 + months, 12)
    year += t.tm_year
    day = min(t.tm_mday, calendar.monthrange(year, month + 1)[1])
    return calendar.timegm((year, month + 1, day, t.tm_hour, t.tm_min, t.tm_sec))


@dataclass(frozen=True)
class Signed:
    """A finished signing job: the signed zip and the job's record."""

    data: bytes
    job: dict


class SignerStore:
    """Profiles by name and jobs by id, for one region (the home account's ARNs)."""

    def __init__(self, db: "Database", sealer: "Sealer", *, region: str, account: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.profiles = Documents(db, "signing_profiles")
        self.jobs = Documents(db, "signing_jobs")
        self.sealer = sealer
        self.region = region
        self.account = account
        self.clock = clock

    # ------------------------------------------------------------ profiles
    def profile_arn(self, name: str) -> str:
        return f"arn:aws:signer:{self.region}:{self.account}:/signing-profiles/{name}"

    def put_profile(self, name: str, *, platform: str, validity: dict | None, parameters: dict | None,
                    tags: dict | None) -> dict:
        key = envelope.new_key()
        version = "".join(secrets.choice(_ALNUM) for _ in range(10))
        arn = self.profile_arn(name)
        version_arn = f"{arn}/{version}"
        doc = {
            "profileName": name, "profileVersion": version, "profileVersionArn": version_arn, "arn": arn,
            "platformId": platform, "platformDisplayName": PLATFORM_DISPLAY_NAME,
            "signatureValidityPeriod": dict(validity or DEFAULT_VALIDITY), "status": "Active",
            "tags": dict(tags or {}), "_created": self.clock(),
            "_privateKey": self.sealer.seal(envelope.private_pem(key), version_arn),
            "_publicKey": envelope.public_pem(key),
        }
        if parameters:
            doc["signingParameters"] = dict(parameters)
        self.profiles.put(name, doc)
        return doc

    def profile(self, name: str) -> dict | None:
        return self.profiles.get(name)

    def by_version_arn(self, version_arn: str) -> dict | None:
        arn, _, version = version_arn.rpartition("/")
        doc = self.profiles.get(arn.rpartition("/")[2]) if arn.startswith(self.profile_arn("")) else None
        return doc if doc is not None and doc["profileVersion"] == version else None

    def cancel(self, name: str) -> None:
        doc = dict(self.profiles.get(name) or {})
        doc["status"] = "Canceled"
        self.profiles.put(name, doc)

    def revoke_profile(self, name: str, *, effective: float, reason: str, by: str) -> None:
        doc = dict(self.profiles.get(name) or {})
        doc.update(status="Revoked", statusReason=reason,
                   revocationRecord={"revocationEffectiveFrom": effective, "revokedAt": self.clock(), "revokedBy": by})
        self.profiles.put(name, doc)

    # ------------------------------------------------------------ jobs
    def job_arn(self, job_id: str) -> str:
        return f"arn:aws:signer:{self.region}:{self.account}:/signing-jobs/{job_id}"

    def sign(self, profile: dict, data: bytes, *, source: dict, requested_by: str) -> Signed:
        """Sign ``data`` (a zip) with ``profile``'s key and record the job (Succeeded)."""
        job_id = str(uuid.uuid4())
        now = self.clock()
        expires = add_period(now, profile["signatureValidityPeriod"])
        key = envelope.load_private(self.sealer.open(profile["_privateKey"], profile["profileVersionArn"]))
        signed = envelope.sign(data, key, profile_version_arn=profile["profileVersionArn"],
                               job_arn=self.job_arn(job_id), signed_at=int(now), expires_at=expires)
        job = {
            "jobId": job_id, "source": source, "platformId": profile["platformId"],
            "platformDisplayName": profile["platformDisplayName"], "profileName": profile["profileName"],
            "profileVersion": profile["profileVersion"], "createdAt": now, "completedAt": self.clock(),
            "signatureExpiresAt": expires, "requestedBy": requested_by, "jobInvoker": requested_by,
            "jobOwner": self.account, "status": "Succeeded",
        }
        if profile.get("signingParameters"):
            job["signingParameters"] = profile["signingParameters"]
        self.jobs.put(job_id, job)
        return Signed(signed, job)

    def record_failure(self, profile: dict, *, source: dict, requested_by: str, reason: str) -> dict:
        job_id = str(uuid.uuid4())
        now = self.clock()
        job = {"jobId": job_id, "source": source, "platformId": profile["platformId"],
               "platformDisplayName": profile["platformDisplayName"], "profileName": profile["profileName"],
               "profileVersion": profile["profileVersion"], "createdAt": now, "completedAt": now,
               "requestedBy": requested_by, "jobInvoker": requested_by, "jobOwner": self.account,
               "status": "Failed", "statusReason": reason}
        self.jobs.put(job_id, job)
        return job

    def sign_payload(self, profile: dict, payload: bytes, payload_format: str, requested_by: str) -> tuple[dict, bytes]:
        """SignPayload: an ECDSA P-384 / SHA-384 signature (DER) of ``payload`` by the profile's key, as a job."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        key = envelope.load_private(self.sealer.open(profile["_privateKey"], profile["profileVersionArn"]))
        signature = key.sign(payload, ec.ECDSA(hashes.SHA384()))
        now = self.clock()
        job_id = str(uuid.uuid4())
        job = {"jobId": job_id, "source": {}, "platformId": profile["platformId"],
               "platformDisplayName": profile["platformDisplayName"], "profileName": profile["profileName"],
               "profileVersion": profile["profileVersion"], "createdAt": now, "completedAt": now,
               "signatureExpiresAt": add_period(now, profile["signatureValidityPeriod"]), "requestedBy": requested_by,
               "jobInvoker": requested_by, "jobOwner": self.account, "status": "Succeeded",
               "_payloadFormat": payload_format}
        self.jobs.put(job_id, job)
        return job, signature

    def job(self, job_id: str) -> dict | None:
        return self.jobs.get(job_id)

    def set_signed_object(self, job_id: str, signed_object: dict) -> None:
        doc = dict(self.jobs.get(job_id) or {})
        doc["signedObject"] = signed_object
        self.jobs.put(job_id, doc)

    def revoke_signature(self, job_id: str, *, reason: str, by: str) -> None:
        doc = dict(self.jobs.get(job_id) or {})
        doc["revocationRecord"] = {"reason": reason, "revokedAt": self.clock(), "revokedBy": by}
        self.jobs.put(job_id, doc)

    def job_by_arn(self, job_arn: str) -> dict | None:
        prefix = self.job_arn("")
        return self.jobs.get(job_arn[len(prefix):]) if job_arn.startswith(prefix) else None
