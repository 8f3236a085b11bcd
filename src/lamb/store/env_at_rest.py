"""A version's environment variables at rest: sealed under Lamb's master key (``lamb.sealing``),
or, for a function with ``KMSKeyArn`` when KMS is reachable, under that customer key
(``lamb.kms_sealing``), as Lambda does
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html).

Stored ``Environment.Variables`` are ``{"_sealed": "lamb1:..."}`` or ``{"_kms": {...}}``;
in memory they are open. Variables that cannot be opened at start (KMS refuses or is not
reachable) stay unreadable: the configuration shows ``Environment.Error`` as AWS does, the
stored form is kept (``UNREADABLE_STORED``) and written back unchanged until new variables
replace it, and Invoke answers the KMS error (``invoke_error``).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from ..protocol.errors import AwsError

if TYPE_CHECKING:
    from ..kms_sealing import KmsSealer
    from ..sealing import Sealer

log = logging.getLogger("lamb.env")

SEALED = "_sealed"
KMS_SEALED = "_kms"
UNREADABLE = "_EnvKmsError"  # [KMS error code or None, message]: the variables could not be opened
UNREADABLE_STORED = "_EnvStored"  # the stored Variables, written back while unreadable


def _unreadable(config: dict) -> bool:
    env = config.get("Environment")
    return UNREADABLE in config and isinstance(env, dict) and "Error" in env and "Variables" not in env


def dump(config: dict, name: str, sealer: "Sealer | None", kms: "KmsSealer | None") -> dict:
    """The configuration as stored."""
    if _unreadable(config):
        out = {k: v for k, v in config.items() if k not in (UNREADABLE, UNREADABLE_STORED)}
        out["Environment"] = {"Variables": config[UNREADABLE_STORED]}
        return out
    config = {k: v for k, v in config.items() if k not in (UNREADABLE, UNREADABLE_STORED)}
    env = config.get("Environment")
    if not (isinstance(env, dict) and env.get("Variables")):
        return config
    text = json.dumps(env["Variables"])
    stored = None
    if config.get("KMSKeyArn") and kms is not None:
        from ..kms_sealing import KmsError

        try:
            stored = {KMS_SEALED: kms.seal(config["KMSKeyArn"], text, name)}
        except KmsError as e:  # KMS went away after the key was checked: Lamb's master key still seals them
            log.warning("function %s: KMS key %s unusable (%s); environment sealed with Lamb's master key",
                        name, config["KMSKeyArn"], e)
    if stored is None and sealer is not None:
        stored = {SEALED: sealer.seal(text, name)}
    if stored is not None:
        config = {**config, "Environment": {**env, "Variables": stored}}
    return config


def load(config: dict, name: str, sealer: "Sealer | None", kms: "KmsSealer | None") -> dict:
    """The configuration as kept in memory (variables open, or marked unreadable)."""
    variables = (config.get("Environment") or {}).get("Variables")
    if not isinstance(variables, dict):
        return config
    if SEALED in variables:
        if sealer is None:
            raise RuntimeError(f"function {name}: sealed environment variables and no master key")
        config["Environment"]["Variables"] = json.loads(sealer.open(variables[SEALED], name))
    elif KMS_SEALED in variables:
        from ..kms_sealing import KmsError

        try:
            if kms is None:
                raise KmsError(None, "KMS is not configured")
            config["Environment"]["Variables"] = json.loads(kms.open(variables[KMS_SEALED], name))
        except KmsError as e:
            log.warning("function %s: environment variables under %s cannot be decrypted: %s",
                        name, variables[KMS_SEALED].get("kms"), e)
            config[UNREADABLE] = [e.code, e.message]
            config[UNREADABLE_STORED] = variables
            config["Environment"] = {"Error": {"ErrorCode": e.code or "KMSAccessDeniedException",
                                               "Message": decrypt_message(e.code, e.message)}}
    return config


def decrypt_message(code: str | None, message: str) -> str:
    """What Lambda says when a function's variables do not decrypt. The AccessDenied text is AWS's
    (as reported by users); the others are Lamb's wording in the same form."""
    if code == "DisabledException":
        return "Lambda was unable to decrypt the environment variables because the KMS key used is disabled. " \
               "Please check the function's KMS key settings."
    if code == "NotFoundException":
        return "Lambda was unable to decrypt the environment variables because the KMS key was not found. " \
               "Please check the function's KMS key settings."
    if code == "KMSInvalidStateException":
        return "Lambda was unable to decrypt the environment variables because the KMS key used is in an invalid " \
               "state for Decrypt. Please check the function's KMS key."
    return "Lambda was unable to decrypt the environment variables because KMS access was denied. Please check the " \
           f"function's KMS key settings. KMS Exception: {code or 'KMSUnreachable'}KMS Message: {message}"


_INVOKE_CODES = {"DisabledException": "KMSDisabledException", "NotFoundException": "KMSNotFoundException",
                 "KMSInvalidStateException": "KMSInvalidStateException"}


def invoke_error(config: dict) -> AwsError | None:
    """Invoke's answer for a version whose variables could not be opened (502, the model's KMS errors)."""
    if not _unreadable(config):
        return None
    code, message = config[UNREADABLE]
    return AwsError(_INVOKE_CODES.get(code or "", "KMSAccessDeniedException"), decrypt_message(code, message), 502,
                    type_="Service")
