"""Print pip constraints that pin every dependency of pyproject.toml to its lower bound.

CI's minimum-versions run installs ``.[test]`` under these constraints, so each ``>=``
bound in pyproject.toml is a version the suite has passed with. A dependency without a
``>=`` bound is an error: every dependency states the oldest version it works with. An upper
bound (``,<N``) may follow, for a package whose major version is the point (Node.js 22).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

SPEC = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(,\s*<\s*[0-9][0-9A-Za-z.]*\s*)?$")


def lower_bounds(pyproject: Path) -> dict[str, str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    specs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        specs += extra
    pins: dict[str, str] = {}
    for spec in specs:
        m = SPEC.match(spec)
        if m is None:
            raise SystemExit(f"{pyproject}: {spec!r} must be 'name>=version[,<version]' (a tested lower bound)")
        name, version = re.sub(r"[-_.]+", "-", m.group(1)).lower(), m.group(3)
        if pins.setdefault(name, version) != version:
            raise SystemExit(f"{pyproject}: {name} has two lower bounds ({pins[name]}, {version})")
    return pins


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "pyproject.toml"
    for name, version in sorted(lower_bounds(path).items()):
        print(f"{name}=={version}")
