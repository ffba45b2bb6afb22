"""Change-aware test selection in a scratch clone.

A one-line change to one file of each driver selects that driver's tests and nothing else; a change
to a nova-common module reaches nova-common's tests and every driver's (Pants' own file-level
selection); the planner runs exactly the subprojects that import a nova-common module, for a
change to it (listed as a path) and for its deletion; and under the default policies a committed
change to the compute service runs no driver, a change to one member of Flavor runs the drivers
that use it, a lockfile or requirements change runs every test, and a range from a branch behind
another counts only the branch's own changes.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import cast

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


def plan_of(repo: Path, *args: str) -> dict[str, dict[str, object]]:
    result = nova_split(repo, "plan", *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["subprojects"]  # type: ignore[no-any-return]


def commit_edit(repo: Path, path: str, old: str, new: str) -> None:
    text = (repo / path).read_text()
    assert old in text, f"{old!r} not in {path}"
    (repo / path).write_text(text.replace(old, new, 1))
    git(repo, "commit", "-qam", f"edit {path}")


def users_of(repo: Path, identifier: str) -> list[str]:
    """Drivers whose sources spell ``identifier`` (a text search: the oracle the plan must match)."""
    word = re.compile(rf"\b{re.escape(identifier)}\b")
    return sorted(d for d in DRIVERS if any(word.search(p.read_text()) for p in (repo / "drivers" / d).rglob("*.py")))


def test_plans_of_core_changes_under_the_default_policies(repo: Path) -> None:
    """manager.py alone: nova-common and no driver; a Flavor member: the drivers that use it;
    common.lock and nova-common's requirements: every subproject, all tests; a branch behind main:
    only its own change."""
    git(repo, "reset", "-q", "--hard", head())
    branch = git(repo, "rev-parse", "--abbrev-ref", "HEAD")
    try:
        commit_edit(repo, "nova-common/nova_common/compute/manager.py", "\n\n", "\n\n_SELFTEST = 1\n\n")
        plan = plan_of(repo, "HEAD~1..HEAD")
        assert [n for n, d in plan.items() if d["run"]] == ["nova-common"]
        assert all(plan[d]["paths"] in ([], ["end-to-end"]) for d in DRIVERS), plan

        commit_edit(repo, "nova-common/nova_common/objects/flavor.py", "ephemeral_gb: int = 0", "ephemeral_gb: int = 1")
        plan = plan_of(repo, "HEAD~1..HEAD")
        expected = users_of(repo, "ephemeral_gb")
        assert expected and len(expected) < len(DRIVERS), expected
        assert sorted(d for d in DRIVERS if plan[d]["run"]) == expected
        assert all(plan[d]["voting"] and "api" in cast(list[str], plan[d]["paths"]) for d in expected)

        for path in ("nova-common/common.lock", "nova-common/requirements.txt"):
            with (repo / path).open("a") as f:
                f.write("\n" if path.endswith(".lock") else "# selection self-test\n")
            git(repo, "commit", "-qam", f"touch {path}")
            plan = plan_of(repo, "HEAD~1..HEAD")
            assert all(d["run"] and d["voting"] and d["tests"] == "all" for d in plan.values()), (path, plan)

        # a branch that left before those changes: charged only with its own change
        git(repo, "branch", "-f", "ahead", "HEAD")
        git(repo, "checkout", "-q", "-b", "behind", head())
        driver = DRIVERS[0]
        commit_edit(repo, f"drivers/{driver}/nova_{driver}/config.py", "\n", "\n# behind main\n")
        plan = plan_of(repo, "ahead..behind")
        assert [n for n, d in plan.items() if d["run"]] == [driver]
    finally:
        git(repo, "checkout", "-q", "-f", branch if branch != "HEAD" else head())
        git(repo, "reset", "-q", "--hard", head())
        git(repo, "branch", "-q", "-D", "ahead", "behind")


#: nova-common's packages: the driver API and compute service, and the command-line plumbing.
_CORE_PACKAGES = ("nova_common", "nova_common_cli")


def _imports(path: Path) -> set[str]:
    """The nova_common modules a file imports (``from a import b`` counts a and a.b)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith(_CORE_PACKAGES)}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(_CORE_PACKAGES):
            out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return out


def _pulls_compute(repo: Path, start: Path) -> list[str]:
    """The import chain from ``start`` to nova_common.compute (or nova_common_cli, its command-line
    plumbing, core-internal too), or [] if there is none."""
    src = repo / "nova-common"
    todo: list[tuple[str, list[str]]] = [(m, [m]) for m in sorted(_imports(start))]
    seen: set[str] = set()
    while todo:
        module, chain = todo.pop(0)
        if module.split(".")[:2] == ["nova_common", "compute"] or module.split(".")[0] == "nova_common_cli":
            return chain
        if module in seen:
            continue
        seen.add(module)
        base = src / module.replace(".", "/")
        for f in (base.with_suffix(".py"), base / "__init__.py"):
            if f.is_file():
                todo += [(m, [*chain, m]) for m in sorted(_imports(f))]
    return []


def test_only_end_to_end_tests_pull_the_compute_service(repo: Path) -> None:
    """Test helpers other than testing.cli, and every driver test but the end-to-end ones, do not
    import the compute service, so a core-internal change reaches a driver only end-to-end."""
    # nova-common's own tests beside them (cli_test.py tests cli.py) are no helpers: tests never
    # import tests (the dependency rules), so no driver reaches the compute service through them.
    helpers = sorted(
        f for f in (repo / "nova-common/nova_common/testing").glob("*.py") if not f.name.endswith("_test.py")
    )
    assert helpers
    for f in helpers:
        if f.name != "cli.py":
            assert not _pulls_compute(repo, f), f"{f.name} pulls the compute service: {_pulls_compute(repo, f)}"
    for d in DRIVERS:
        for f in sorted((repo / "drivers" / d).rglob("*.py")):
            if not f.name.endswith("_integration_test.py"):
                chain = _pulls_compute(repo, f)
                assert not chain, f"{f.relative_to(repo)} pulls the compute service: {' -> '.join(chain)}"
