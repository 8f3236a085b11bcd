"""AWS Signer's signing jobs for Lambda packages in S3
(https://docs.aws.amazon.com/signer/latest/api/API_StartSigningJob.html,
https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning.html).

The source object is read, and the signed zip written, with boto3's standard
configuration (``AWS_ENDPOINT_URL_S3``, the credentials chain), as Lamb reads code from S3.
The signed object is ``<destination prefix><jobId>.zip``, as AWS Signer names it. The job
runs while StartSigningJob waits, so DescribeSigningJob finds it ``Succeeded`` (or
``Failed`` with the reason: an object that cannot be read or written, or is not a zip).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..signing import envelope

if TYPE_CHECKING:
    from ..signing.signer import SignerStore


class SigningJobs:
    def __init__(self, signer: "SignerStore", s3: Callable[[], Any], max_bytes: int) -> None:
        self.signer = signer
        self.s3 = s3
        self.max_bytes = max_bytes

    def start(self, profile: dict, source: dict, destination: dict, requested_by: str) -> dict:
        """Run a job (blocking: call it off the event loop); returns the job's record."""
        from botocore.exceptions import BotoCoreError, ClientError

        src = source["s3"]
        try:
            kw = {"Bucket": src["bucketName"], "Key": src["key"]}
            if src.get("version"):
                kw["VersionId"] = src["version"]
            resp = self.s3().get_object(**kw)
            if resp.get("ContentLength", 0) > self.max_bytes:
                resp["Body"].close()
                raise ValueError(f"the source object is larger than {self.max_bytes} bytes")
            data = resp["Body"].read()
            signed = self.signer.sign(profile, data, source=source, requested_by=requested_by)
        except (ClientError, BotoCoreError, envelope.NotAZip, ValueError) as e:
            return self.signer.record_failure(profile, source=source, requested_by=requested_by,
                                              reason=f"Could not sign s3://{src['bucketName']}/{src['key']}: {e}")
        dest = destination["s3"]
        key = f"{dest.get('prefix') or ''}{signed.job['jobId']}.zip"
        try:
            self.s3().put_object(Bucket=dest["bucketName"], Key=key, Body=signed.data)
        except (ClientError, BotoCoreError) as e:
            job = dict(signed.job, status="Failed", statusReason=f"Could not write s3://{dest['bucketName']}/{key}: {e}")
            self.signer.jobs.put(job["jobId"], job)
            return job
        self.signer.set_signed_object(signed.job["jobId"], {"s3": {"bucketName": dest["bucketName"], "key": key}})
        return self.signer.job(signed.job["jobId"])
