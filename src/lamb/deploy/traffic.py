"""A SAM ``DeploymentPreference`` reduced to alias weights.

SAM turns the preference into a CodeDeploy deployment group whose ``DeploymentConfigName``
is ``CodeDeployDefault.Lambda<Type>``; CodeDeploy then shifts the alias's traffic
(https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/automating-updates-to-serverless-apps.html).
Lamb has no CodeDeploy: ``steps`` gives the (weight of the new version, seconds held)
steps of the predefined configurations, which the Alias handler applies in turn before
moving all traffic. Hooks and alarms are not run (listed by the deploy).
"""

from __future__ import annotations

import re
from typing import Callable

CANARY = re.compile(r"Canary(\d+)Percent(\d+)Minutes?$")
LINEAR = re.compile(r"Linear(\d+)PercentEvery(\d+)Minutes?$")


def steps(config_name: str) -> list[tuple[float, float]] | None:
    """Steps for ``CodeDeployDefault.Lambda<Type>`` (or the bare type); None for an unknown name."""
    kind = config_name.rsplit(".", 1)[-1].removeprefix("Lambda")
    if kind == "AllAtOnce":
        return []
    m = CANARY.match(kind)
    if m:
        return [(int(m.group(1)) / 100, int(m.group(2)) * 60.0)]
    m = LINEAR.match(kind)
    if m:
        pct, minutes = int(m.group(1)), int(m.group(2))
        return [(k / 100, minutes * 60.0) for k in range(pct, 100, pct)]
    return None


def preferences(resources: dict, resolve: Callable[[object], object]) -> dict[str, str]:
    """Alias logical id → its deployment configuration name, from the alias's UpdatePolicy."""
    out = {}
    for logical, res in resources.items():
        policy = (res.get("UpdatePolicy") or {}).get("CodeDeployLambdaAliasUpdate")
        if not policy:
            continue
        group_ref = policy.get("DeploymentGroupName")
        group = resources.get(group_ref.get("Ref")) if isinstance(group_ref, dict) else None
        if group is None:
            continue
        name = resolve((group.get("Properties") or {}).get("DeploymentConfigName", "CodeDeployDefault.LambdaAllAtOnce"))
        out[logical] = str(name)
    return out
