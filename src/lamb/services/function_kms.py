"""A function's ``KMSKeyArn`` checked when it is set, as Lambda does when it creates its grant
on the key (CreateFunction, UpdateFunctionConfiguration;
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html).

KMS refusing the key (not found, disabled, no access, an alias) is AWS's 400
"Lambda was unable to configure access to your environment variables because the KMS key is
invalid for CreateGrant. ..." with KMS's code and message. KMS not reachable at all (no
endpoint, no credentials) leaves the variables under Lamb's master key, logged: the key is
honoured once KMS is configured (the next write of the configuration seals under it).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ..kms_sealing import KmsError
from ..protocol.errors import invalid_parameter

if TYPE_CHECKING:
    from ..kms_sealing import KmsSealer

log = logging.getLogger("lamb.env")


async def check_key(kms: "KmsSealer", key_arn: str | None, function: str) -> None:
    if not key_arn:
        return
    try:
        await asyncio.to_thread(kms.data_key, key_arn, function)
    except KmsError as e:
        if e.code is None:
            log.warning("function %s: KMS is not reachable (%s); its environment variables are sealed with "
                        "Lamb's master key until it is", function, e.message)
            return
        raise invalid_parameter(
            "Lambda was unable to configure access to your environment variables because the KMS key is invalid "
            f"for CreateGrant. Please check your KMS key settings. KMS Exception: {e.code} KMS Message: {e.message}")
