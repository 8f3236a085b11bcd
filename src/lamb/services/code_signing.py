"""Code signing at deployment: what Lambda does with a package under a code signing config
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning.html).

``CodeSigning.check`` runs on CreateFunction and UpdateFunctionCode (the function's zip)
and when a signed function gets layers (each layer's zip), before anything is stored:

* a package changed since it was signed: ``InvalidCodeSignatureException`` (400), under
  Warn too, as AWS documents ("Lambda always blocks deployment if the integrity check fails");
* unsigned, expired, signed by a profile the config does not allow, or revoked: under
  ``Enforce`` ``CodeVerificationFailedException`` (400); under ``Warn`` the package is
  deployed, the warning is logged (logger ``lamb.codesigning``) and counted per function
  (AWS's ``SignatureValidationErrors`` metric; ``/_lamb/health``'s ``code_signing``).

A trusted (or warned-about but intact) signature's profile version and job ARNs are
returned for the configuration (``SigningProfileVersionArn``, ``SigningJobArn``).
The texts of both errors: AWS's for CodeVerificationFailedException as CloudFormation
reported it; InvalidCodeSignatureException's is Lamb's (AWS's was not found).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import TYPE_CHECKING, Callable

from ..protocol.errors import AwsError
from ..signing.verify import Outcome, verify

if TYPE_CHECKING:
    from ..signing.configs import CodeSigningConfigs
    from ..signing.signer import SignerStore

log = logging.getLogger("lamb.codesigning")


def config_not_found(arn: str) -> AwsError:
    return AwsError("CodeSigningConfigNotFoundException",
                    "The code signing configuration cannot be found. Check that the provided configuration is not "
                    f"deleted: {arn}.", 404)


class CodeSigning:
    def __init__(self, configs: "CodeSigningConfigs", signer: "SignerStore",
                 clock: Callable[[], float] = time.time) -> None:
        self.configs = configs
        self.signer = signer
        self.clock = clock
        self.warnings: Counter[str] = Counter()  # SignatureValidationErrors per function

    def check(self, config_arn: str | None, data: bytes, function: str, what: str = "function code") -> dict:
        """Verify ``data`` for ``function`` under the config ``config_arn`` (None: nothing to check)."""
        if not config_arn:
            return {}
        config = self.configs.get(config_arn)
        if config is None:
            raise config_not_found(config_arn)
        verdict = verify(data, config["AllowedPublishers"]["SigningProfileVersionArns"], self.signer, self.clock())
        arns = {}
        if verdict.profile_version_arn and verdict.outcome is not Outcome.INTEGRITY:
            arns = {"SigningProfileVersionArn": verdict.profile_version_arn, "SigningJobArn": verdict.job_arn}
        if verdict.outcome is Outcome.TRUSTED:
            return arns
        if verdict.outcome is Outcome.INTEGRITY:
            log.warning("code signing: %s of %s failed the integrity check: %s", what, function, verdict.reason)
            raise AwsError("InvalidCodeSignatureException",
                           f"Lambda cannot deploy the function. The code signature of the {what} failed the integrity "
                           f"check: {verdict.reason}. Check the provided signature for {function}.", 400)
        self.warnings[function] += 1
        policy = config["CodeSigningPolicies"]["UntrustedArtifactOnDeployment"]
        log.warning("code signing (%s): %s of %s: %s", policy, what, function, verdict.reason)
        if policy == "Enforce":
            raise AwsError("CodeVerificationFailedException",
                           "Lambda cannot deploy the function. The function or layer might be signed using a signature "
                           f"that the client is not configured to accept. Check the provided signature for {function}.",
                           400)
        return arns

    def counts(self) -> dict:
        return {"SignatureValidationErrors": dict(self.warnings)}
