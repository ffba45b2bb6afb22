"""`nova-split release` for real, in a scratch clone: plan hyperv, cut nova-hyperv 1.0.1 (real
./pants package and test, a real venv, a real annotated tag) and check its results; every refusal
triggers with one line and changes nothing; failing tests and an interrupted cut roll back.

The tests share one clone and run in file order: the cut comes after the checks that need none.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_split_tools.testing.scratch import Result, git, nova_split, scratch_clone, share_tooling_venv

FRAGMENT = "drivers/hyperv/changes/+release-selftest.bugfix.md"
ERROR = "^nova-split release: error: "


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    clone = scratch_clone(tmp_path_factory.mktemp("release"))
    share_tooling_venv(clone)
    tags = git(clone, "tag", "-l").split()
    if tags:  # a clone of a released repo: start from no tags
        git(clone, "tag", "-d", *tags)
    # A change and a note for hyperv, a change for xen that hyperv's plan must not show.
    (clone / FRAGMENT).write_text("Release self-test note.\n")
    with (clone / "drivers/hyperv/README.md").open("a") as f:
        f.write("# release self-test\n")
    (clone / "drivers/xen/changes/+xen-selftest.feature.md").write_text("Xen note.\n")
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "release-selftest: a hyperv fix and a xen feature")
    git(clone, "branch", "base")
    yield clone


def state(repo: Path) -> tuple[str, str, str]:
    return git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"), git(repo, "tag", "-l")


def refuses(repo: Path, pattern: str, *args: str) -> str:
    """`nova-split ARGS` exits 2 with one line on stderr matching ``pattern`` and changes nothing."""
    before = state(repo)
    result = nova_split(repo, *args)
    assert result.returncode == 2, f"'nova-split {' '.join(args)}' exited {result.returncode}; expected: {pattern}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and re.search(pattern, lines[0]), f"'nova-split {' '.join(args)}' said: {result.stderr}"
    assert state(repo) == before, f"'nova-split {' '.join(args)}' changed the clone"
    print(f"refused: {lines[0]}")
    return lines[0]


def ok(result: Result, what: str) -> str:
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    print(result.stdout, end="")
    return result.stdout


def test_plan_hyperv(repo: Path) -> None:
    git(repo, "reset", "-q", "--hard", "base")
    ok(nova_split(repo, "release", "plan", "hyperv"), "release plan hyperv")
    as_json = ok(nova_split(repo, "release", "plan", "hyperv", "--format", "json"), "release plan --format json")
    plan = json.loads(as_json)
    assert plan["suggested_version"] == "1.0.1" and plan["last_tag"] is None, plan
    # Every note under drivers/hyperv/changes (the self-test's and those already in the tree), no other.
    notes = sorted(p.relative_to(repo).as_posix() for p in (repo / "drivers/hyperv/changes").glob("+*.md"))
    assert FRAGMENT in notes and sorted(f["path"] for f in plan["fragments"]) == notes, plan
    assert not any(f.startswith("drivers/xen/") for f in plan["files"]), plan
    assert any(f.startswith("nova-common/") for f in plan["files"]), plan


def test_refusals_that_need_no_build(repo: Path) -> None:
    git(repo, "reset", "-q", "--hard", "base")
    stray = repo / "drivers/hyperv/stray.txt"
    stray.touch()
    cut = ("release", "cut", "hyperv")
    refuses(repo, ERROR + r"the work tree has uncommitted changes \(drivers/hyperv/stray.txt\)", *cut)
    stray.unlink()
    refuses(repo, ERROR + "1.0.0 does not increase nova-hyperv's version 1.0.0", *cut, "--version", "1.0.0")
    git(repo, "tag", "-a", "nova-hyperv-1.0.1", "-m", "in the way")
    refuses(repo, ERROR + "tag nova-hyperv-1.0.1 already exists", "release", "cut", "hyperv", "--version", "1.0.1")
    git(repo, "tag", "-d", "nova-hyperv-1.0.1")
    meta = repo / "nova-common/subproject.toml"
    meta.write_text(re.sub(r'^version = "1.0.0"', 'version = "2.0.0"', meta.read_text(), flags=re.M))
    git(repo, "commit", "-qam", "nova-common 2.0.0")
    refuses(
        repo,
        ERROR + "nova-hyperv requires nova-common<2,>=1.0 but the tree has nova-common 2.0.0",
        "release", "cut", "hyperv",
    )  # fmt: skip
    git(repo, "reset", "-q", "--hard", "base")


def test_dry_run_changes_nothing(repo: Path) -> None:
    git(repo, "reset", "-q", "--hard", "base")
    before = state(repo)
    out = ok(nova_split(repo, "release", "cut", "hyperv", "--version", "1.0.1", "--dry-run"), "--dry-run")
    assert "dry run: nothing changed" in out
    assert state(repo) == before, "--dry-run changed the clone"


def test_failing_tests_refuse_and_roll_back(repo: Path) -> None:
    git(repo, "reset", "-q", "--hard", "base")
    failing = repo / "drivers/hyperv/nova_hyperv/release_selftest_test.py"
    failing.write_text(
        "def test_fails() -> None:\n"
        '    raise AssertionError("release-selftest: a failing test must stop the release")\n'
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "release-selftest: a failing test")
    refuses(
        repo,
        ERROR
        + r"'./pants test drivers/hyperv::' failed \(drivers/hyperv/nova_hyperv/release_selftest_test.py\); "
        + "fix the tests",
        "release", "cut", "hyperv", "--version", "1.0.1",
    )  # fmt: skip
    assert (repo / FRAGMENT).is_file(), "the fragment was not restored"
    git(repo, "reset", "-q", "--hard", "base")


def test_cut_then_refusals_and_interrupt(repo: Path) -> None:
    git(repo, "reset", "-q", "--hard", "base")
    start = time.monotonic()
    cut = ok(nova_split(repo, "release", "cut", "hyperv", "--version", "1.0.1"), "release cut hyperv")
    print(f"cut took {time.monotonic() - start:.0f} s")
    wheels = sorted((repo / "dist/release/hyperv").glob("nova_hyperv-*.whl"))
    assert len(wheels) == 1 and wheels[0].name.startswith("nova_hyperv-1.0.1-"), wheels
    assert git(repo, "tag", "-l") == "nova-hyperv-1.0.1"
    assert git(repo, "cat-file", "-t", "nova-hyperv-1.0.1") == "tag", "nova-hyperv-1.0.1 is not annotated"
    assert git(repo, "rev-parse", "nova-hyperv-1.0.1^{commit}") == git(repo, "rev-parse", "HEAD")
    changelog = (repo / "drivers/hyperv/CHANGELOG.md").read_text()
    assert len(re.findall(r"^## nova-hyperv ", changelog, re.M)) == 1, changelog
    assert re.search(r"^## nova-hyperv 1\.0\.1 ", changelog, re.M), changelog
    assert "Release self-test note." in changelog, changelog
    assert not (repo / FRAGMENT).exists(), "the fragment was not consumed"
    assert re.search(r'^version = "1\.0\.1"', (repo / "drivers/hyperv/subproject.toml").read_text(), re.M)
    changed = git(repo, "diff", "--name-only", "HEAD~1", "HEAD").splitlines()
    outside = [p for p in changed if not p.startswith("drivers/hyperv/")]
    assert not outside, f"the release commit touched other subprojects: {outside}"
    assert git(repo, "status", "--porcelain") == "", "the cut left uncommitted changes"
    assert re.search(r"ok: .*Requires-Dist nova-common<2,>=1.0", cut), "the wheel's nova-common range was not checked"
    # hyperv has no peer outside its tests: its install check is discovery, loading and API negotiation.
    assert "'nova-compute drivers' lists hyperv" in cut and "nova_common.loader loads hyperv" in cut, "no smoke ran"

    refuses(repo, ERROR + "nothing to release in drivers/hyperv since nova-hyperv-1.0.1", "release", "cut", "hyperv")
    again = ("release", "cut", "hyperv", "--version", "1.0.1", "--force")
    refuses(repo, ERROR + "tag nova-hyperv-1.0.1 already exists", *again)

    # An interrupted cut (Ctrl-C just before tagging, after the commit) leaves no tag and no edits.
    (repo / "drivers/hyperv/changes/+again.bugfix.md").write_text("Another note.\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "another hyperv note")
    head = git(repo, "rev-parse", "HEAD")
    interrupted = nova_split(repo, "release", "cut", "hyperv", env={"NOVA_SPLIT_RELEASE_INTERRUPT_BEFORE": "tag"})
    assert interrupted.returncode != 0, "the interrupted cut succeeded"
    assert "interrupted" in interrupted.stderr, interrupted.stderr
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == "", "left a commit or edits"
    assert git(repo, "tag", "-l") == "nova-hyperv-1.0.1", "the interrupted cut left a tag"
    assert (repo / "drivers/hyperv/changes/+again.bugfix.md").is_file()
    assert re.search(r'^version = "1\.0\.1"', (repo / "drivers/hyperv/subproject.toml").read_text(), re.M)
