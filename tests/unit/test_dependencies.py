"""Every package Lamb, its tests and its benchmarks import is declared in pyproject.toml.

A fresh virtual environment has only what pyproject.toml declares, so an import of an
undeclared package works on a developer's machine and fails for a user. This reads the
imports of src/, tests/ and benchmarks/ and maps each top-level module to the
distribution that provides it in this environment.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# what the runtime roots provide inside functions (Lamb installs them there), not Lamb's own imports:
# awslambdaric, and Lamb's transport for it, which the zygote imports from the root (runtimes/python.py)
FUNCTION_SIDE = {"awslambdaric", "lamb_runtime_client"}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement).group(0)).lower()


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    test = {_name(r) for r in project["optional-dependencies"]["test"]}
    return runtime, runtime | test


def _imports(folder: Path) -> dict[str, Path]:
    """Top-level modules imported by the .py files under ``folder`` (absolute imports only)."""
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], path)
    return found


def _third_party(folder: Path) -> dict[str, Path]:
    # scripts in the folder itself import each other by name (benchmarks: `from invoke_latency import ...`)
    local = {"lamb", "tests", "__future__"} | {p.stem for p in folder.glob("*.py")} | FUNCTION_SIDE
    return {m: p for m, p in _imports(folder).items() if m not in sys.stdlib_module_names and m not in local}


def _undeclared(folder: Path, declared: set[str]) -> list[str]:
    providers = importlib.metadata.packages_distributions()
    missing = []
    for module, path in sorted(_third_party(folder).items()):
        # a module no installed distribution provides is taken to be its own distribution's name
        dists = {_name(d) for d in providers.get(module, [module])}
        if not dists & declared:
            missing.append(f"{module} (imported by {path.relative_to(ROOT)}; provided by {sorted(dists) or 'nothing installed'})")
    return missing


def test_lamb_imports_only_its_runtime_dependencies():
    runtime, _ = _declared()
    assert _third_party(ROOT / "src")  # the scan sees botocore, httptools, ...
    assert _undeclared(ROOT / "src", runtime) == []


def test_tests_and_benchmarks_import_only_declared_packages():
    _, everything = _declared()
    assert _undeclared(ROOT / "tests", everything) == []
    assert _undeclared(ROOT / "benchmarks", everything) == []


def test_processes_the_tests_start_are_declared():
    """``python -m moto.server`` (the async tests' SQS/SNS/EventBridge/S3) needs moto's server extra."""
    _, everything = _declared()
    assert "moto" in everything
    test_extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    assert any(re.match(r"moto\[[^\]]*\bserver\b", r) for r in test_extra)
    assert "awscli" in everything  # tests run the `aws` console script
