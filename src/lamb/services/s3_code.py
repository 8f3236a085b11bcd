"""Function code and layer content from S3: ``Code.S3Bucket``/``S3Key``/``S3ObjectVersion``
(CreateFunction, UpdateFunctionCode) and ``Content.*`` (PublishLayerVersion).

https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCode.html: Lambda reads the
object itself. Lamb reads it with boto3's standard configuration, as any AWS tool would: the
credentials chain, ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``, profiles; real S3 by
default, any compatible server when configured (``aws_clients``). The bucket is looked up in Lamb's region (AWS
requires the bucket in the function's region).

Errors are AWS's: 400 ``InvalidParameterValueException`` "Error occurred while GetObject. S3
Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist" (the code and
message S3 answered), and an object larger than the unzipped-size limit gets "Unzipped size
must be smaller than 262144000 bytes" without being read. Blocking: run ``fetch`` off the
event loop.
"""

from __future__ import annotations

from typing import Callable

from ..protocol.errors import AwsError, invalid_parameter
from .aws_clients import refused


def location(source: dict) -> tuple[str, str, str | None] | None:
    """``(bucket, key, version)`` when ``source`` (a ``Code``/``Content`` structure or
    UpdateFunctionCode's parameters) names an S3 object, else None."""
    if not (source.get("S3Bucket") or source.get("S3Key") or source.get("S3ObjectVersion")):
        return None
    return source.get("S3Bucket") or "", source.get("S3Key") or "", source.get("S3ObjectVersion")


class S3Code:
    """Reads deployment packages from S3 with ``client()`` (``AwsClients.get("s3")``)."""

    def __init__(self, client: Callable[[], object], max_bytes: int):
        self.client = client
        self.max_bytes = max_bytes  # the unzipped-size limit: no zip larger than it can unzip within it

    def fetch(self, bucket: str, key: str, version: str | None = None) -> bytes:
        """The object's bytes, or AWS's error for it."""
        from botocore.exceptions import BotoCoreError, ClientError

        kw = {"Bucket": bucket, "Key": key}
        if version:
            kw["VersionId"] = version
        try:
            resp = self.client().get_object(**kw)
            if resp.get("ContentLength", 0) > self.max_bytes:
                resp["Body"].close()
                raise invalid_parameter(f"Unzipped size must be smaller than {self.max_bytes} bytes")
            return resp["Body"].read()
        except ClientError as e:
            raise refused("S3", "GetObject", e) from None
        except BotoCoreError as e:  # no S3 reachable (no endpoint, no credentials): Lamb's own failure
            raise AwsError("ServiceException", f"Lamb could not read s3://{bucket}/{key}: {e}", 500,
                           type_="Service") from None
