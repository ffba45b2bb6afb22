"""Change-aware test selection in a scratch clone.

A one-line change to one file of each driver selects that driver's tests and nothing else; a change
to a nova-common module reaches nova-common's tests and every driver's; the planner runs exactly the
subprojects that import a nova-common module, for a change to it and for its deletion.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_split_tools.testing.scratch import buildroot, git, head, nova_split, pants, scratch_clone, share_tooling_venv

DRIVERS = sorted(p.name for p in (buildroot() / "drivers").iterdir() if (p / "BUILD").is_file())
POWER = "nova-common/nova_common/power.py"
POWER_USERS = ["hyperv", "libvirt", "nova-common", "vmware"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    clone = scratch_clone(tmp_path_factory.mktemp("change"))
    share_tooling_venv(clone)
    yield clone


def selected(repo: Path, path: str) -> list[str]:
    """The test files (as `dir` prefixes of their addresses) a committed change to ``path`` selects."""
    git(repo, "reset", "-q", "--hard", head())
    with (repo / path).open("a") as f:
        f.write("# selection self-test\n")
    git(repo, "commit", "-qam", f"touch {path}")
    try:
        since = ("--changed-since=HEAD~1", "--changed-dependents=transitive")
        result = pants(repo, *since, "list", "--filter-target-type=python_test")
        assert result.returncode == 0, result.stderr[-3000:]
        return sorted({line.split(":")[0] for line in result.stdout.splitlines() if line})
    finally:
        git(repo, "reset", "-q", "--hard", head())


def test_there_are_drivers() -> None:
    assert len(DRIVERS) >= 2, DRIVERS


@pytest.mark.parametrize("driver", DRIVERS)
def test_driver_change_selects_only_its_tests(repo: Path, driver: str) -> None:
    out = selected(repo, f"drivers/{driver}/nova_{driver}/config.py")
    assert out, f"a change to drivers/{driver}/nova_{driver}/config.py selected nothing"
    strays = [t for t in out if not t.startswith(f"drivers/{driver}/")]
    assert not strays, f"a change to drivers/{driver} selected {strays}"


def test_nova_common_change_reaches_every_driver(repo: Path) -> None:
    out = selected(repo, "nova-common/nova_common/objects/flavor.py")
    missed = [d for d in DRIVERS if not any(t.startswith(f"drivers/{d}/") for t in out)]
    assert not missed, f"flavor.py change missed {missed}"
    assert any(t.startswith("nova-common/") for t in out), "flavor.py change missed nova-common's tests"


def runs(plan_json: str) -> list[str]:
    return sorted(name for name, d in json.loads(plan_json)["subprojects"].items() if d["run"])


def test_plan_for_a_module_some_drivers_import_and_its_deletion(repo: Path) -> None:
    git(repo, "reset", "-q", "--hard", head())
    plan = nova_split(repo, "plan", "--paths-from", "-", "--format", "json", stdin=POWER + "\n")
    assert plan.returncode == 0, plan.stderr
    assert runs(plan.stdout) == POWER_USERS
    git(repo, "rm", "-q", POWER, "nova-common/nova_common/power_test.py")
    git(repo, "commit", "-qm", "delete power.py")
    try:
        plan = nova_split(repo, "plan", "HEAD~1", "--format", "json")
        assert plan.returncode == 0, plan.stderr
        assert runs(plan.stdout) == POWER_USERS, "deleting power.py (importers left broken)"
    finally:
        git(repo, "reset", "-q", "--hard", head())
