"""Execution-role credentials from an upstream STS (real AWS, or any endpoint).

With ``LAMB_UPSTREAM_STS=on`` Lamb asks the STS that boto3's standard configuration names
(``AWS_ENDPOINT_URL_STS`` / ``AWS_ENDPOINT_URL``, the credentials chain) for
``sts:AssumeRole`` of each function's role, session name = function name, as Lambda does
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html), so the
function's calls to S3, SQS or DynamoDB run with its role. Credentials are reused per
(role, function) until half their lifetime is gone. The call blocks: the invoker makes it on a
worker thread before an environment starts (a cold start) unless ``fresh`` says it is cached, and
``RoleClients`` on the thread of the call it serves.
Without an upstream, Lamb itself is the ``sts`` given (``Lamb.assume_role``), cached the same way.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable


class UpstreamRoles:
    """``(role ARN, function name) -> AWS_ACCESS_KEY_ID / SECRET / SESSION_TOKEN`` from upstream STS."""

    def __init__(self, sts: Callable[[], Any], seconds: int, clock: Callable[[], float] = time.time) -> None:
        self.sts = sts
        self.seconds = seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}

    def fresh(self, role_arn: str, session: str) -> bool:
        """Whether a call would answer from the cache (no STS call, nothing that blocks)."""
        found = self._cache.get((role_arn, session))
        return found is not None and found[0] - self.clock() > self.seconds / 2

    def __call__(self, role_arn: str, session: str) -> dict[str, str]:
        parts = role_arn.split(":")
        if len(parts) != 6 or not parts[5].startswith("role/") or not parts[4].isdigit():
            return {}
        now = self.clock()
        with self._lock:
            found = self._cache.get((role_arn, session))
            if found is not None and found[0] - now > self.seconds / 2:
                return found[1]
        creds = self.sts().assume_role(RoleArn=role_arn, RoleSessionName=session[:64],
                                       DurationSeconds=self.seconds)["Credentials"]
        env = {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
               "AWS_SESSION_TOKEN": creds["SessionToken"]}
        with self._lock:
            self._cache[(role_arn, session)] = (now + self.seconds, env)
        return env
