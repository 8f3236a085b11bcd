"""The AWS Signer subset Lambda's code signing needs, served from botocore's ``signer`` model
(https://docs.aws.amazon.com/signer/latest/api/API_Operations.html): signing profiles
(Put, Get, List, Cancel, Revoke), signing jobs for zips in S3 (Start, Describe, List,
RevokeSignature), SignPayload (a plain ECDSA signature of the payload) and the one platform, ``AWSLambda-SHA384-ECDSA``
(``aws signer put-signing-profile --platform-id AWSLambda-SHA384-ECDSA``, then
``aws signer start-signing-job``, then ``aws lambda create-function --code S3Bucket=...``).

The signature format is Lamb's own (``lamb.signing.envelope``). Messages not found in AWS's
documentation are Lamb's: an existing profile name (AWS's text as reported: "Profile with
name X already exists"), unknown profiles and jobs, other platforms, and jobs of a profile
that is not Active.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..protocol._timestamps import to_epoch
from ..protocol.errors import AwsError
from ..signing.signer import PLATFORM, PLATFORM_DISPLAY_NAME
from . import operation

if TYPE_CHECKING:
    from .context import RequestContext

SERVICE = "signer"


def _validation(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


def _missing(message: str) -> AwsError:
    return AwsError("ResourceNotFoundException", message, 404)


def _public(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _profile(ctx: "RequestContext", name: str) -> dict:
    doc = ctx.lamb.signer.profile(name)
    if doc is None:
        raise _missing(f"Signing profile {name} not found.")
    return doc


def _job(ctx: "RequestContext", job_id: str) -> dict:
    doc = ctx.lamb.signer.job(job_id)
    if doc is None:
        raise _missing(f"Signing job {job_id} not found.")
    return doc


def _caller(ctx: "RequestContext") -> str:
    caller = ctx.caller
    return getattr(caller, "arn", None) or f"arn:aws:iam::{ctx.lamb.settings.account_id}:root"


_PLATFORM = {
    "platformId": PLATFORM, "displayName": PLATFORM_DISPLAY_NAME, "partner": "AWSLambda", "target": "SHA384-ECDSA",
    "category": "AWSIoT",
    "signingConfiguration": {"encryptionAlgorithmOptions": {"allowedValues": ["ECDSA"], "defaultValue": "ECDSA"},
                             "hashAlgorithmOptions": {"allowedValues": ["SHA384"], "defaultValue": "SHA384"}},
    "signingImageFormat": {"supportedFormats": ["JSONDetached"], "defaultFormat": "JSONDetached"},
    "maxSizeInMB": 250, "revocationSupported": True,
}


@operation("ListSigningPlatforms", service=SERVICE)
def list_signing_platforms(ctx: "RequestContext", params: dict) -> dict:
    return {"platforms": [_PLATFORM]}


@operation("GetSigningPlatform", service=SERVICE)
def get_signing_platform(ctx: "RequestContext", params: dict) -> dict:
    if params["platformId"] != PLATFORM:
        raise _missing(f"Signing platform {params['platformId']} not found; Lamb signs for {PLATFORM} only.")
    return dict(_PLATFORM)


@operation("PutSigningProfile", service=SERVICE)
def put_signing_profile(ctx: "RequestContext", params: dict) -> dict:
    name = params["profileName"]
    if params["platformId"] != PLATFORM:
        raise _validation(f"Lamb signs for the {PLATFORM} platform only, not {params['platformId']}.")
    if params.get("signingMaterial") or params.get("overrides"):
        raise _validation(f"The {PLATFORM} platform takes no signing material or overrides.")
    if ctx.lamb.signer.profile(name) is not None:
        raise _validation(f"Profile with name {name} already exists")
    validity = params.get("signatureValidityPeriod")
    if validity is not None and (not validity.get("type") or not validity.get("value") or validity["value"] < 1):
        raise _validation("signatureValidityPeriod needs a type (DAYS, MONTHS or YEARS) and a positive value.")
    doc = ctx.lamb.signer.put_profile(name, platform=PLATFORM, validity=validity,
                                      parameters=params.get("signingParameters"), tags=params.get("tags"))
    return {"arn": doc["arn"], "profileVersion": doc["profileVersion"], "profileVersionArn": doc["profileVersionArn"]}


@operation("GetSigningProfile", service=SERVICE)
def get_signing_profile(ctx: "RequestContext", params: dict) -> dict:
    return _public(_profile(ctx, params["profileName"]))


@operation("ListSigningProfiles", service=SERVICE)
def list_signing_profiles(ctx: "RequestContext", params: dict) -> dict:
    statuses = set(params.get("statuses") or ())
    rows = []
    for doc in ctx.lamb.signer.profiles:
        if doc["status"] == "Canceled" and not params.get("includeCanceled") and "Canceled" not in statuses:
            continue
        if statuses and doc["status"] not in statuses:
            continue
        if params.get("platformId") and doc["platformId"] != params["platformId"]:
            continue
        rows.append({k: v for k, v in _public(doc).items() if k not in ("statusReason", "revocationRecord")})
    return _page(ctx, params, rows, "profiles")


def _page(ctx: "RequestContext", params: dict, rows: list, key: str) -> dict:
    """maxResults/nextToken pagination (the token is the next row's index)."""
    token = str(params.get("nextToken") or "")
    if token and not token.isdigit():
        raise _validation(f"Invalid nextToken: {token}")
    start = int(token or 0)
    size = params.get("maxResults") or ctx.lamb.settings.limits.list_max_items
    out: dict = {key: rows[start:start + size]}
    if start + size < len(rows):
        out["nextToken"] = str(start + size)
    return out


@operation("CancelSigningProfile", service=SERVICE)
def cancel_signing_profile(ctx: "RequestContext", params: dict) -> dict:
    _profile(ctx, params["profileName"])
    ctx.lamb.signer.cancel(params["profileName"])
    return {}


@operation("RevokeSigningProfile", service=SERVICE)
def revoke_signing_profile(ctx: "RequestContext", params: dict) -> dict:
    doc = _profile(ctx, params["profileName"])
    if params["profileVersion"] != doc["profileVersion"]:
        raise _missing(f"Signing profile {params['profileName']} has no version {params['profileVersion']}.")
    ctx.lamb.signer.revoke_profile(params["profileName"], effective=to_epoch(params["effectiveTime"]),
                                   reason=params["reason"], by=_caller(ctx))
    return {}


@operation("StartSigningJob", service=SERVICE)
async def start_signing_job(ctx: "RequestContext", params: dict) -> dict:
    doc = _profile(ctx, params["profileName"])
    if doc["status"] != "Active":
        raise _validation(f"Signing profile {params['profileName']} is {doc['status']}: it cannot start signing jobs.")
    source, destination = params["source"], params["destination"]
    if not (source.get("s3") or {}).get("bucketName") or not (source.get("s3") or {}).get("key"):
        raise _validation("source.s3 needs a bucketName and a key.")
    if not (destination.get("s3") or {}).get("bucketName"):
        raise _validation("destination.s3 needs a bucketName.")
    job = await asyncio.to_thread(ctx.lamb.signing_jobs.start, doc, source, destination, _caller(ctx))
    return {"jobId": job["jobId"], "jobOwner": job["jobOwner"]}


@operation("SignPayload", service=SERVICE)
def sign_payload(ctx: "RequestContext", params: dict) -> dict:
    """The payload's ECDSA P-384 / SHA-384 signature (DER) by the profile's key; ``metadata`` says how
    to check it (Lamb's own keys: AWS's Notation envelope is not produced)."""
    doc = _profile(ctx, params["profileName"])
    if doc["status"] != "Active":
        raise _validation(f"Signing profile {params['profileName']} is {doc['status']}: it cannot sign.")
    job, signature = ctx.lamb.signer.sign_payload(doc, params["payload"], params["payloadFormat"], _caller(ctx))
    return {"jobId": job["jobId"], "jobOwner": job["jobOwner"], "signature": signature,
            "metadata": {"algorithm": "ECDSA-P384-SHA384", "profileVersionArn": doc["profileVersionArn"],
                         "signingTime": str(int(job["createdAt"])), "payloadFormat": params["payloadFormat"]}}


@operation("ListSigningJobs", service=SERVICE)
def list_signing_jobs(ctx: "RequestContext", params: dict) -> dict:
    def wanted(job: dict) -> bool:
        if params.get("status") and job["status"] != params["status"]:
            return False
        if params.get("platformId") and job["platformId"] != params["platformId"]:
            return False
        if params.get("requestedBy") and job["requestedBy"] != params["requestedBy"]:
            return False
        if params.get("jobInvoker") and job["jobInvoker"] != params["jobInvoker"]:
            return False
        if params.get("isRevoked") is not None and bool(job.get("revocationRecord")) != params["isRevoked"]:
            return False
        expires = job.get("signatureExpiresAt")
        if params.get("signatureExpiresBefore") and not (expires and expires < to_epoch(params["signatureExpiresBefore"])):
            return False
        if params.get("signatureExpiresAfter") and not (expires and expires > to_epoch(params["signatureExpiresAfter"])):
            return False
        return True

    keys = ("jobId", "source", "signedObject", "createdAt", "status", "profileName", "profileVersion", "platformId",
            "platformDisplayName", "signatureExpiresAt", "jobOwner", "jobInvoker")
    rows = [dict({k: job[k] for k in keys if k in job}, isRevoked=bool(job.get("revocationRecord")))
            for job in sorted(ctx.lamb.signer.jobs, key=lambda j: j["createdAt"]) if wanted(job)]
    return _page(ctx, params, rows, "jobs")


@operation("DescribeSigningJob", service=SERVICE)
def describe_signing_job(ctx: "RequestContext", params: dict) -> dict:
    return _public(_job(ctx, params["jobId"]))


@operation("RevokeSignature", service=SERVICE)
def revoke_signature(ctx: "RequestContext", params: dict) -> dict:
    _job(ctx, params["jobId"])
    ctx.lamb.signer.revoke_signature(params["jobId"], reason=params["reason"], by=_caller(ctx))
    return {}
