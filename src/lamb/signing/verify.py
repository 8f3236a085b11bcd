"""The four checks Lambda makes when a signed package is deployed
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning.html#config-codesigning-valid):

1. **Integrity**: the package is unchanged since it was signed (the payload's SHA-384
   and the ECDSA signature, ``lamb.signing.envelope``). A failure is always fatal.
2. **Expiry**: the signature has not expired.
3. **Mismatch**: the signature's profile version is one of the config's allowed publishers.
4. **Revocation**: neither the profile (from its effective time) nor the job's signature is revoked.

A package with no signature fails the mismatch check (it is not signed by an allowed
profile); checks 2–4 are what ``UntrustedArtifactOnDeployment`` (Warn or Enforce) decides on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from . import envelope

if TYPE_CHECKING:
    from .signer import SignerStore


class Outcome(Enum):
    TRUSTED = "trusted"
    INTEGRITY = "integrity"  # changed since signed, or a signature that does not verify
    UNSIGNED = "unsigned"
    EXPIRED = "expired"
    MISMATCH = "mismatch"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str
    profile_version_arn: str | None = None
    job_arn: str | None = None


def verify(data: bytes, allowed: list[str], signer: "SignerStore", now: float) -> Verdict:
    """The verdict on a deployment package under a config allowing ``allowed`` profile versions."""
    try:
        payload, env = envelope.read(data)
    except envelope.Malformed as e:
        return Verdict(Outcome.INTEGRITY, str(e))
    except envelope.NotAZip:
        return Verdict(Outcome.UNSIGNED, "the package is not a zip file")
    if env is None:
        return Verdict(Outcome.UNSIGNED, "the package is not signed")
    profile = signer.by_version_arn(env.profile_version_arn)
    if profile is None:
        if envelope.payload_digest(payload) != env.payload_sha384:
            return Verdict(Outcome.INTEGRITY, "the package changed since it was signed")
        # not verifiable, so its ARNs are not reported as the package's signature
        return Verdict(Outcome.MISMATCH, f"signed by {env.profile_version_arn}, a profile this Lamb does not hold")
    if not envelope.intact(payload, env, envelope.load_public(profile["_publicKey"])):
        return Verdict(Outcome.INTEGRITY, "the package changed since it was signed, or its signature does not verify",
                       env.profile_version_arn, env.job_arn)
    arns = (env.profile_version_arn, env.job_arn)
    if env.expires_at <= now:
        return Verdict(Outcome.EXPIRED, f"the signature expired at {env.expires_at}", *arns)
    if env.profile_version_arn not in allowed:
        return Verdict(Outcome.MISMATCH, f"signed by {env.profile_version_arn}, which the code signing configuration "
                       "does not allow", *arns)
    record = profile.get("revocationRecord")
    if profile.get("status") == "Revoked" and record and env.signed_at >= record["revocationEffectiveFrom"]:
        return Verdict(Outcome.REVOKED, f"the signing profile {profile['profileName']} is revoked", *arns)
    job = signer.job_by_arn(env.job_arn)
    if job is not None and job.get("revocationRecord"):
        return Verdict(Outcome.REVOKED, f"the signature of signing job {job['jobId']} is revoked", *arns)
    return Verdict(Outcome.TRUSTED, "", *arns)
