"""The README's two set-up commands are the ones CI and users run."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", setup, re.S)


def test_readme_has_exactly_two_setup_commands():
    cmds = _commands()
    assert len(cmds) == 2
    assert "lamb serve" in cmds[0]
    assert "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _commands()[1] in ci


def _ci_default_stages() -> list[str]:
    m = re.search(r'^STAGES="\$\{LAMB_CI_STAGES:-([^}]*)\}"$', (ROOT / ".ci" / "run").read_text(), re.M)
    assert m, "the default stages of .ci/run"
    return m.group(1).split()


def test_ci_builds_its_own_virtual_environments():
    ci = (ROOT / ".ci" / "run").read_text()
    assert '-m venv "$WORK/$1"' in ci and "--system-site-packages" not in ci
    assert {"readme", "minimum"} <= set(_ci_default_stages())


def test_supported_pythons_are_the_same_in_readme_pyproject_and_ci():
    readme = re.search(r"Lamb itself runs on Python ([0-9., and]+)\)", (ROOT / "README.md").read_text())
    assert readme, "the README says which Pythons Lamb itself runs on"
    promised = set(re.findall(r"3\.\d+", readme.group(1)))
    classifiers = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["classifiers"]
    declared = {c.rsplit(" ", 1)[1] for c in classifiers if c.startswith("Programming Language :: Python :: 3.")}
    # the readme and minimum stages run python3.11; each py3.X stage its own
    tested = {"3.11"} | {s.removeprefix("py") for s in _ci_default_stages() if s.startswith("py3.")}
    assert promised == declared == tested
