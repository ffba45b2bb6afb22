"""A real cut killed at every step boundary, then finished with ``--continue`` or undone with ``--abort``.

Each cut runs in a child process (``nova_split_tools.testing.release_toolchain``: the real
cut/resume/abort on a small real git repository, with the recorded toolchain standing in for Pants)
and is stopped by the documented test hook ``NOVA_SPLIT_RELEASE_STOP_AFTER=STEP[:SIGNAL]``, which
sends SIGKILL (or SIGTERM/SIGINT/SIGSTOP) to the process itself right after STEP. Afterwards the
repository is checked: no tag without its commit, no half-written changelog, one line saying what
to run, and after that command either the release (commit and tag, nothing skipped) or the exact
state before it, and a clean next cut.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nova_split_tools.release_state import STEPS, STOP_ENV
from nova_split_tools.testing.release_toolchain import DERIVED, release_repo
from nova_split_tools.testing.repos import commit, git

CHANGELOG = "drivers/libvirt/CHANGELOG.md"
FRAGMENT = "drivers/libvirt/changes/+console.feature.md"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = release_repo(tmp_path_factory.mktemp("template") / "repo")
    commit(root, "libvirt: console", {FRAGMENT: "Serial console output.\n"})
    return root


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "repo", symlinks=True))


def child(repo: Path, *args: str, stop: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != STOP_ENV}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    if stop:
        env[STOP_ENV] = stop
    cmd = [sys.executable, "-m", "nova_split_tools.testing.release_toolchain", str(repo), "libvirt", *args]
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=120, start_new_session=True)


def snapshot(repo: Path) -> tuple[str, str, str, str, str]:
    return (
        git(repo, "rev-parse", "HEAD"),
        git(repo, "symbolic-ref", "HEAD"),
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        git(repo, "tag", "-l"),
        (repo / CHANGELOG).read_text() + (repo / "drivers/libvirt/subproject.toml").read_text(),
    )


def assert_consistent(repo: Path) -> None:
    """What must hold at any moment: a tag has its commit; the changelog is the old one or complete."""
    for tag in git(repo, "tag", "-l").split():
        subject = git(repo, "log", "-n1", "--format=%s", f"{tag}^{{commit}}")
        version = tag.removeprefix("nova-libvirt-")
        assert subject == f"Release nova-libvirt {version}", f"{tag} is not on its release commit: {subject}"
    log = (repo / CHANGELOG).read_text()
    assert log.endswith("\n") and log.count("## nova-libvirt 1.1.0") <= 1, log
    if "## nova-libvirt 1.1.0" in log:
        assert "Serial console output." in log, log


def assert_clean(repo: Path) -> None:
    """No scratch, venv, worktree or lock left; dist/release holds only tagged wheels."""
    gitdir = repo / ".git" / "nova-split-release"
    assert not (gitdir / "scratch").exists() and not (gitdir / "lock").exists() and not (gitdir / "state.json").exists()
    assert len(git(repo, "worktree", "list", "--porcelain").split("\n\n")) == 1, git(repo, "worktree", "list")
    tags = set(git(repo, "tag", "-l").split())
    out = repo / "dist/release/libvirt"
    for wheel in out.iterdir() if out.exists() else []:
        version = wheel.name.split("-")[1]
        assert f"nova-libvirt-{version}" in tags, f"{wheel.name} in dist/release has no tag"


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)  # a refusal: ToolError
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def next_cut_is_clean(repo: Path, want: str) -> None:
    commit(repo, "libvirt: more", {"drivers/libvirt/changes/+more.bugfix.md": "More.\n"})
    result = child(repo)
    assert result.returncode == 0, result.stderr
    assert f'"tag": "nova-libvirt-{want}"' in result.stdout, result.stdout
    assert_clean(repo)


@pytest.mark.parametrize("step", STEPS)
def test_killed_then_continued(repo: Path, step: str) -> None:
    killed = child(repo, stop=step)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert_consistent(repo)
    refusal = one_line(child(repo))
    assert re.search(rf"stopped at step '{step}' done.*nova-split release cut libvirt --continue", refusal), refusal
    if STEPS.index(step) < STEPS.index("commit"):
        assert "--abort" in refusal and "before its release commit" in refusal, refusal
    else:
        assert "after its release commit" in refusal, refusal
    resumed = child(repo, "continue")
    assert resumed.returncode == 0, resumed.stderr
    assert git(repo, "tag", "-l") == "nova-libvirt-1.1.0"
    assert git(repo, "rev-parse", "nova-libvirt-1.1.0^{commit}") == git(repo, "rev-parse", "HEAD")
    assert git(repo, "log", "-n1", "--format=%s") == "Release nova-libvirt 1.1.0"
    assert git(repo, "log", "-n1", "--format=%s", "HEAD^") == "libvirt: console", "a second release commit"
    assert (repo / f"drivers/libvirt/{DERIVED}").read_text() == "1.1.0\n"
    assert not (repo / FRAGMENT).exists() and "Serial console output." in (repo / CHANGELOG).read_text()
    assert git(repo, "status", "--porcelain") == ""
    assert_consistent(repo)
    assert_clean(repo)
    assert list((repo / "dist/release/libvirt").iterdir())[0].name.startswith("nova_libvirt-1.1.0-")
    next_cut_is_clean(repo, "1.1.1")


@pytest.mark.parametrize("step, again", [("notes", False), ("install", False), ("commit", True), ("publish", True)])
def test_killed_then_aborted(repo: Path, step: str, again: bool) -> None:
    before = snapshot(repo)
    killed = child(repo, stop=step)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert_consistent(repo)
    aborted = child(repo, "abort")
    assert aborted.returncode == 0, aborted.stderr
    assert snapshot(repo) == before, "--abort did not restore the exact state before the cut"
    assert_clean(repo)
    if again:
        next_cut_is_clean(repo, "1.1.0")  # the same version again: nothing skipped


@pytest.mark.parametrize(
    "step, sig",
    [("test", "TERM"), ("tag", "TERMGROUP"), ("notes", "INT"), ("install", "INTGROUP"), ("package", "HUP")],
)
def test_sigterm_and_sigint_restore_the_state_before_the_cut(repo: Path, step: str, sig: str) -> None:
    before = snapshot(repo)
    result = child(repo, stop=f"{step}:{sig}")
    assert result.returncode == 130, (result.returncode, result.stderr)
    assert "restored the state before the cut" in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1, f"not one line:\n{result.stderr}"
    assert snapshot(repo) == before
    assert_clean(repo)
    next_cut_is_clean(repo, "1.1.0")


def _stopped_cut(repo: Path, stop: str, what: str) -> subprocess.Popen[str]:
    """A real cut of libvirt in a child process, stopped (SIGSTOP) by the test hook at ``stop``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), STOP_ENV: stop}
    cmd = [sys.executable, "-m", "nova_split_tools.testing.release_toolchain", str(repo), "libvirt"]
    proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":
        if time.monotonic() >= deadline or proc.poll() is not None:
            proc.kill()
            proc.communicate()
            raise AssertionError(f"the first cut did not stop {what}")
        time.sleep(0.1)
    return proc


def _resumed_to_the_end(repo: Path, proc: subprocess.Popen[str]) -> None:
    """Let the stopped cut go on: it must finish its release, leaving the clone clean."""
    os.kill(proc.pid, signal.SIGCONT)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert git(repo, "tag", "-l") == "nova-libvirt-1.1.0"
    assert_clean(repo)


def test_a_second_cut_is_refused_naming_the_first(repo: Path) -> None:
    first = _stopped_cut(repo, "test:STOP", "after 'test'")
    try:
        for args in ((), ("continue",), ("abort",)):
            line = one_line(child(repo, *args))
            assert re.search(rf"cut is running in this clone \(pid {first.pid}: nova-libvirt 1.1.0\)", line), line
    finally:
        _resumed_to_the_end(repo, first)


def test_a_second_and_third_sigterm_do_not_cut_the_restore_short(repo: Path) -> None:
    """timeout and CI runners send SIGTERM more than once: the restore the first began still ends."""
    before = snapshot(repo)
    cut = _stopped_cut(repo, "package:STOP", "after 'package'")
    for _ in range(3):
        os.kill(cut.pid, signal.SIGTERM)  # pending while stopped
    os.kill(cut.pid, signal.SIGCONT)
    for _ in range(5):  # and more during the restore
        time.sleep(0.05)
        if cut.poll() is None:
            os.kill(cut.pid, signal.SIGTERM)
    out, err = cut.communicate(timeout=120)
    # 130, or killed by a SIGTERM that came after the restore was done and the signals given back
    assert cut.returncode in (130, -signal.SIGTERM), (cut.returncode, err)
    assert len(err.splitlines()) == 1 and "restored the state before the cut" in err, err
    assert snapshot(repo) == before
    assert_clean(repo)


def test_killed_after_its_tag_the_line_says_what_is_left(repo: Path) -> None:
    killed = child(repo, stop="tag")
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr)
    line = one_line(child(repo))
    assert "finish it (publish its wheel; nova-libvirt-1.1.0 exists) with: " in line, line
    assert child(repo, "continue").returncode == 0
    assert_clean(repo)


def test_a_lock_left_by_a_killed_cut_holds_nothing_even_if_its_pid_lives(repo: Path) -> None:
    """The lock is an flock: a leftover file naming a live process (pid reuse) does not refuse."""
    killed = child(repo, stop="package")
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr)
    lock = repo / ".git/nova-split-release/lock"
    lock.write_text(f"{os.getpid()} nova-libvirt 1.1.0\n")  # a live pid: this test's own process
    line = one_line(child(repo))
    assert "stopped at step 'package' done" in line and "--continue" in line, line
    result = child(repo, "continue")
    assert result.returncode == 0, result.stderr
    assert git(repo, "tag", "-l") == "nova-libvirt-1.1.0"
    assert_clean(repo)


def test_a_cut_started_while_another_plans_is_refused_before_it_reads_anything(repo: Path) -> None:
    """The lock is taken before the plan: the second of two cuts started together fails in one line
    naming the first, not with an error about the first one's half-written files."""
    first = _stopped_cut(repo, "plan:STOP", "while planning")
    try:
        before = snapshot(repo)
        line = one_line(child(repo))
        assert re.search(rf"cut is running in this clone \(pid {first.pid}: libvirt \(planning its cut\)\)", line), line
        assert snapshot(repo) == before
    finally:
        _resumed_to_the_end(repo, first)


def test_an_interrupted_cut_is_settled_in_its_own_worktree_only(repo: Path, tmp_path: Path) -> None:
    """The state is shared by the clone's worktrees; --abort or --continue in another one would reset
    that worktree (and lose its work) while the cut's own stayed half-done: refused, naming it."""
    other = tmp_path / "other"
    git(repo, "worktree", "add", "-q", "--detach", str(other), "HEAD")
    killed = child(other, stop="version")
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr)
    (repo / "wip.txt").write_text("work in progress\n")
    before = snapshot(repo)
    for args in ((), ("continue",), ("abort",)):
        line = one_line(child(repo, *args))
        assert f"worktree {other.resolve()}" in line and f"cd {other.resolve()} && nova-split release cut" in line, line
        assert snapshot(repo) == before and (repo / "wip.txt").exists(), f"'{args}' changed this worktree"
    aborted = child(other, "abort")
    assert aborted.returncode == 0, aborted.stderr
    assert git(other, "status", "--porcelain") == ""
    (repo / "wip.txt").unlink()
    git(repo, "worktree", "remove", str(other))
    assert_clean(repo)


def test_an_untagged_release_commit_without_state_is_tagged_not_skipped(repo: Path) -> None:
    killed = child(repo, stop="commit")
    assert killed.returncode == -signal.SIGKILL
    shutil.rmtree(repo / ".git" / "nova-split-release")  # e.g. a cut by an older tool, or a lost state
    line = one_line(child(repo))
    assert re.search(r"nova-libvirt 1.1.0 was committed \(\w+\) but never tagged; tag it with: .*--continue$", line)
    assert child(repo, "continue").returncode == 0
    assert git(repo, "tag", "-l") == "nova-libvirt-1.1.0"
    assert git(repo, "rev-parse", "nova-libvirt-1.1.0^{commit}") == git(repo, "rev-parse", "HEAD")
    assert_clean(repo)
    next_cut_is_clean(repo, "1.1.1")


def test_an_interrupted_continue_of_an_untagged_commit_aborts_to_the_state_before_it(repo: Path) -> None:
    """``--continue`` of a release commit with no state, killed after tagging, then ``--abort``: the
    branch is checked out where it was (not a detached HEAD at the commit's parent), no tag."""
    assert child(repo, stop="commit").returncode == -signal.SIGKILL
    shutil.rmtree(repo / ".git" / "nova-split-release")
    before = snapshot(repo)
    assert child(repo, "continue", stop="tag").returncode == -signal.SIGKILL
    assert "after its release commit" in one_line(child(repo))
    assert child(repo, "abort").returncode == 0
    assert snapshot(repo) == before
    assert_clean(repo)
    assert child(repo, "continue").returncode == 0
    assert git(repo, "rev-parse", "nova-libvirt-1.1.0^{commit}") == git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize("content", ['{"subproject": "libvirt"', '{"subproject": "libvirt"}', "[]"])
def test_an_unreadable_state_is_one_line(repo: Path, content: str) -> None:
    state = repo / ".git" / "nova-split-release" / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(content)
    for args in ((), ("continue",), ("abort",)):
        assert "state.json is unreadable" in one_line(child(repo, *args))
    assert state.read_text() == content


def test_nothing_to_continue_or_abort_is_one_line(repo: Path) -> None:
    assert "no interrupted release cut of nova-libvirt to continue" in one_line(child(repo, "continue"))
    assert "no interrupted release cut to abort" in one_line(child(repo, "abort"))


def test_killed_inside_git_commit_the_commit_is_recognised(repo: Path) -> None:
    """Killed after ``git commit`` wrote the commit but before the state recorded it."""
    killed = child(repo, stop="commit")
    assert killed.returncode == -signal.SIGKILL
    path = repo / ".git/nova-split-release/state.json"
    recorded = json.loads(path.read_text())
    path.write_text(json.dumps({**recorded, "commit": None, "done": False}))
    assert "after its release commit" in one_line(child(repo))
    assert child(repo, "continue").returncode == 0
    assert git(repo, "log", "-n1", "--format=%s", "HEAD^") == "libvirt: console", "a second release commit"
    assert git(repo, "rev-parse", "nova-libvirt-1.1.0^{commit}") == git(repo, "rev-parse", "HEAD")
    assert_clean(repo)
