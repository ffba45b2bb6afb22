"""`nova-split release` for real, every subproject, in one scratch clone (real ./pants test and
package, real venvs, real annotated tags): each of the six cuts from the same commit, then
independent cadences (hyperv three times, nova-common twice, the other drivers once) with plan,
notes, versions and tags checked, and every --check gate run on the result. A real cut killed
with SIGKILL is finished with --continue, one killed with SIGTERM restores itself; the refusals
(dirty tree, version, tag, nova-common range, shallow clone) and a cut whose tests fail change
nothing.

The tests share one clone and run in file order. The kill-at-every-step-boundary matrix runs on
small real repositories in nova_split_tools/release_crash_test.py.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from nova_split_tools.testing.scratch import (
    Result,
    git,
    nova_split,
    pants_daemon,
    run,
    scratch_clone,
    share_tooling_venv,
)

ERROR = "^nova-split release: error: "
DRIVERS = ("hyperv", "xen", "vmware", "ironic", "libvirt")
DIST = {"nova-common": "nova-common", **{d: f"nova-{d}" for d in DRIVERS}}
PATH = {"nova-common": "nova-common", **{d: f"drivers/{d}" for d in DRIVERS}}
STOP = "NOVA_SPLIT_RELEASE_STOP_AFTER"
TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    clone = scratch_clone(tmp_path_factory.mktemp("release"))
    share_tooling_venv(clone)
    tags = git(clone, "tag", "-l").split()
    if tags:  # a clone of a released repo: start from no tags
        git(clone, "tag", "-d", *tags)
    for name, path in PATH.items():
        (clone / path / "changes/+release-selftest.bugfix.md").write_text(f"Release self-test note for {name}.\n")
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "release-selftest: a note for every subproject")
    git(clone, "branch", "base")
    with pants_daemon(clone):  # a cut runs Pants five or six times: one graph load, as for a user
        yield clone
    print("cut times: " + ", ".join(f"{k} {v:.0f} s" for k, v in TIMES.items()))


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
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[-3000:]}\n{result.stderr[-20000:]}"
    print(result.stdout, end="")
    return result.stdout


def version_of(repo: Path, name: str) -> str:
    text = (repo / PATH[name] / "subproject.toml").read_text()
    match = re.search(r'^version = "([^"]+)"', text, re.M)
    assert match, text
    return match.group(1)


def plan(repo: Path, name: str) -> dict[str, object]:
    document: dict[str, object] = json.loads(
        ok(nova_split(repo, "release", "plan", name, "--format", "json"), f"release plan {name}")
    )
    return document


def cut_and_check(repo: Path, name: str, *args: str) -> str:
    """A real cut of ``name``; checks the plan's version, the tag, the notes, the commit and the wheel."""
    suggested = str(plan(repo, name)["suggested_version"])
    want = args[args.index("--version") + 1] if "--version" in args else suggested
    notes = sorted((repo / PATH[name] / "changes").glob("[!R]*.md"))
    head = git(repo, "rev-parse", "HEAD")
    start = time.monotonic()
    out = ok(nova_split(repo, "release", "cut", name, *args), f"release cut {name}")
    TIMES[f"{name} {want}"] = time.monotonic() - start
    tag = f"{DIST[name]}-{want}"
    assert version_of(repo, name) == want
    assert git(repo, "cat-file", "-t", tag) == "tag", f"{tag} is missing or not annotated"
    assert git(repo, "rev-parse", f"{tag}^{{commit}}") == git(repo, "rev-parse", "HEAD")
    assert git(repo, "rev-parse", "HEAD^") == head, "the cut made more than one commit"
    assert git(repo, "status", "--porcelain") == "", "the cut left uncommitted changes"
    changelog = (repo / PATH[name] / "CHANGELOG.md").read_text()
    assert len(re.findall(rf"^## {DIST[name]} {re.escape(want)} ", changelog, re.M)) == 1, changelog
    assert notes and not any(n.exists() for n in notes), "the fragments were not consumed"
    changed = git(repo, "diff", "--name-only", "HEAD^", "HEAD").splitlines()
    assert f"{PATH[name]}/subproject.toml" in changed
    outside = [p for p in changed if not p.startswith(PATH[name] + "/")]
    assert not outside, f"the release commit of {name} touched other subprojects: {outside}"
    if name != "nova-common":  # the generated standalone pyproject.toml carries the version
        pyproject = (repo / PATH[name] / "pyproject.toml").read_text()
        assert re.search(rf'^version = "{re.escape(want)}"', pyproject, re.M), pyproject
        assert f"{PATH[name]}/pyproject.toml" in changed
        assert "'nova-compute drivers' lists " + name in out, out
        assert re.search(rf"nova_common.loader loads {name}: .* refuses an unknown option", out), out
    wheels = sorted(p.name for p in (repo / "dist/release" / name).glob("*.whl"))
    assert f"{DIST[name].replace('-', '_')}-{want}-py3-none-any.whl" in wheels, wheels
    tagged = {t.removeprefix(DIST[name] + "-") for t in git(repo, "tag", "-l", f"{DIST[name]}-*").split()}
    assert {w.split("-")[1] for w in wheels} <= tagged, f"dist/release/{name} has untagged wheels: {wheels}"
    return out


def gates(repo: Path) -> None:
    for gate in ("packaging", "ci-config", "owners"):
        ok(nova_split(repo, gate, "--check"), f"{gate} --check")


def test_plan_every_subproject(repo: Path) -> None:
    for name in PATH:
        p = plan(repo, name)
        assert p["last_tag"] is None and p["version"] == "1.0.0", p
        fragments, files = cast(list[dict[str, str]], p["fragments"]), cast(list[str], p["files"])
        assert any("+release-selftest.bugfix.md" in f["path"] for f in fragments), p
        others = [f for f in files if any(f.startswith(f"drivers/{d}/") for d in DRIVERS if d != name)]
        assert not others, f"{name}'s plan shows other drivers' files: {others}"


def test_refusals_change_nothing(repo: Path, tmp_path: Path) -> None:
    stray = repo / "drivers/hyperv/stray.txt"
    stray.touch()
    refuses(
        repo, ERROR + r"the work tree has uncommitted changes \(drivers/hyperv/stray.txt\)", "release", "cut", "hyperv"
    )
    stray.unlink()
    refuses(
        repo,
        ERROR + "1.0.0 does not increase nova-hyperv's version 1.0.0",
        "release",
        "cut",
        "hyperv",
        "--version",
        "1.0.0",
    )
    git(repo, "tag", "-a", "nova-xen-1.1.0", "-m", "in the way")
    refuses(repo, ERROR + "tag nova-xen-1.1.0 already exists", "release", "cut", "xen", "--version", "1.1.0")
    git(repo, "tag", "-d", "nova-xen-1.1.0")
    shallow = tmp_path / "shallow"
    run(["git", "clone", "-q", "--depth=1", f"file://{repo}", str(shallow)], tmp_path, check=True)
    share_tooling_venv(shallow)
    refuses(shallow, ERROR + r"\S+/shallow is a shallow clone; .*: git fetch --unshallow$", "release", "cut", "ironic")
    refuses(
        repo, ERROR + "no interrupted release cut of nova-vmware to continue", "release", "cut", "vmware", "--continue"
    )


def test_dry_run_changes_nothing(repo: Path) -> None:
    before = state(repo)
    out = ok(nova_split(repo, "release", "cut", "vmware", "--dry-run"), "--dry-run")
    assert "dry run: nothing changed" in out and "regenerate derived files" in out
    assert state(repo) == before, "--dry-run changed the clone"


def test_a_failing_test_stops_the_cut_with_its_output_and_changes_nothing(repo: Path) -> None:
    """The release manager sees why: the failing test's own output, then one error line; the cut restores."""
    broken = repo / "drivers/xen/nova_xen/release_selftest_test.py"
    broken.write_text("def test_broken_on_purpose() -> None:\n    assert 'release' == 'self-test'\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "xen: a test that fails")
    before = state(repo)
    result = nova_split(repo, "release", "cut", "xen")
    assert result.returncode == 1, (result.returncode, result.stderr[-3000:])
    last = result.stderr.splitlines()[-1]
    assert re.match(
        ERROR + r"'\./pants test drivers/xen::' failed \(drivers/xen/nova_xen/release_selftest_test\.py\); "
        r"fix the tests, then rerun; restored the state before the cut",
        last,
    ), last
    assert "AssertionError: assert 'release' == 'self-test'" in result.stderr, result.stderr[-3000:]
    assert state(repo) == before, "the failed cut left changes behind"
    git(repo, "reset", "-q", "--hard", "base")


def test_every_subproject_released_from_the_same_commit(repo: Path) -> None:
    """nova-common first, then each driver: each cut's preflight runs the --check gates on the one before."""
    base = git(repo, "rev-parse", "base")
    cut_and_check(repo, "nova-common")
    for name in DRIVERS:
        out = cut_and_check(repo, name)
        assert (
            f"with nova-common {version_of(repo, 'nova-common')}:" in out
        ), "not checked against the tagged nova-common"
    for name in PATH:  # every cut's release commit descends from the same commit, with only its own changes
        tag = f"{DIST[name]}-{version_of(repo, name)}"
        assert git(repo, "merge-base", tag, "base") == base
    gates(repo)


def test_a_killed_cut_continues_and_a_terminated_one_restores(repo: Path) -> None:
    (repo / "drivers/hyperv/changes/+kill.bugfix.md").write_text("Survives a SIGKILL.\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "hyperv: another fix")
    before = state(repo)
    terminated = nova_split(repo, "release", "cut", "hyperv", env={STOP: "test:TERM"})
    assert terminated.returncode == 130 and "restored the state before the cut" in terminated.stderr, terminated.stderr
    assert state(repo) == before, "SIGTERM left changes behind"
    killed = nova_split(repo, "release", "cut", "hyperv", env={STOP: "commit"})
    assert killed.returncode == -9, (killed.returncode, killed.stderr[-2000:])
    assert git(repo, "tag", "-l", "nova-hyperv-1.0.2") == "", "a tag before --continue"
    line = refuses(
        repo,
        ERROR
        + r"a release cut of nova-hyperv 1\.0\.2 \(pid \d+\) stopped at step 'commit' done, after its release commit",
        "release",
        "cut",
        "hyperv",
    )
    assert "nova-split release cut hyperv --continue" in line
    ok(nova_split(repo, "release", "cut", "hyperv", "--continue"), "release cut hyperv --continue")
    assert git(repo, "rev-parse", "nova-hyperv-1.0.2^{commit}") == git(repo, "rev-parse", "HEAD")
    assert git(repo, "log", "-n1", "--format=%s", "HEAD^") == "hyperv: another fix", "--continue made a second commit"
    gates(repo)


def test_independent_cadences(repo: Path) -> None:
    """nova-common releases again; hyperv (third time) is checked against the oldest and newest nova-common."""
    (repo / "nova-common/changes/+second.bugfix.md").write_text("Second nova-common release.\n")
    (repo / "drivers/hyperv/changes/+third.bugfix.md").write_text("Third hyperv release.\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "nova-common and hyperv: more fixes")
    first_core = version_of(repo, "nova-common")
    cut_and_check(repo, "nova-common")
    second_core = version_of(repo, "nova-common")
    out = cut_and_check(repo, "hyperv", "--version", "1.0.3")
    assert f"with nova-common {first_core}:" in out and f"with nova-common {second_core}:" in out, out
    refuses(repo, ERROR + "nothing to release in drivers/xen since nova-xen-", "release", "cut", "xen")
    counts = {name: len(git(repo, "tag", "-l", f"{DIST[name]}-*").split()) for name in PATH}
    assert counts == {"nova-common": 2, "hyperv": 3, "xen": 1, "vmware": 1, "ironic": 1, "libvirt": 1}, counts
    gates(repo)
    assert not list((repo / ".git/nova-split-release").glob("scratch")), "scratch (venvs, worktrees) left behind"
    assert len(git(repo, "worktree", "list").splitlines()) == 1, git(repo, "worktree", "list")
