"""Scratch clones of this repository for integration tests (``*_integration_test.py``).

An integration test runs the real tools (``./pants``, ``build-support/bin/nova-split``, git) in a
fresh clone of the repository, never in the developer's work tree. Pants runs tests in a sandbox
that holds neither the repository nor its ``.git``, so the repository is named by two variables
that ``./pants`` exports and the integration test targets pass in (``extra_env_vars``):

- ``NOVA_SPLIT_BUILDROOT``: the repository's work tree (the directory holding ``./pants``);
- ``NOVA_SPLIT_HEAD``: the commit ``./pants`` saw as HEAD. A clone checks out exactly this
  commit, and because the variable is part of the test process's environment it is part of
  Pants' cache key: a new commit reruns every integration test, the same commit reuses the
  result. What is tested is the committed HEAD; uncommitted edits are not in the clone.

``HOME`` and ``PATH`` are passed through too, so nested ``./pants`` runs reuse the bootstrap
(``~/.cache/nova-split``) and Pants' caches (``~/.cache/pants``), and find git, pyenv's 3.9, etc.

Typical use::

    from nova_split_tools.testing.scratch import scratch_clone, pants

    def test_something(tmp_path: Path) -> None:
        repo = scratch_clone(tmp_path)           # tmp_path/repo at NOVA_SPLIT_HEAD, with a git identity
        result = pants(repo, "dependencies", "::")
        assert result.returncode == 0, result.stdout

The BUILD target for such tests (build-support/python/selftests/BUILD, ``integration``) tags them
``integration``: ``./pants --tag=-integration test ::`` leaves them out, ``--tag=integration``
runs only them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "BUILDROOT_ENV",
    "HEAD_ENV",
    "IDENTITY",
    "Result",
    "buildroot",
    "git",
    "head",
    "nova_split",
    "pants",
    "pants_daemon",
    "run",
    "scratch_clone",
    "share_tooling_venv",
]

BUILDROOT_ENV = "NOVA_SPLIT_BUILDROOT"
HEAD_ENV = "NOVA_SPLIT_HEAD"
#: the committer identity set in every scratch clone (the sandbox has no global git config)
IDENTITY = {"user.name": "nova-split selftest", "user.email": "selftest@nova-split.invalid"}

Result = subprocess.CompletedProcess[str]


class ScratchError(AssertionError):
    """The test environment does not name a repository to clone (an AssertionError: a failure, not a skip)."""


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ScratchError(
            f"{name} is not set: run integration tests through ./pants (which exports it), and give the "
            f"test target extra_env_vars=[{BUILDROOT_ENV!r}, {HEAD_ENV!r}, 'HOME', 'PATH']"
        )
    return value


def buildroot() -> Path:
    """The repository under test (``$NOVA_SPLIT_BUILDROOT``)."""
    root = Path(_env(BUILDROOT_ENV))
    if not (root / "pants").is_file():
        raise ScratchError(f"{BUILDROOT_ENV}={root} holds no ./pants: it must name the repository's work tree")
    return root


def head() -> str:
    """The commit under test (``$NOVA_SPLIT_HEAD``, the cache key of every integration test)."""
    return _env(HEAD_ENV)


def run(
    cmd: Sequence[str | os.PathLike[str]],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    check: bool = False,
) -> Result:
    """Run ``cmd`` in ``cwd`` with stdout and stderr captured as text (separately).

    ``env`` is added to this process's environment. With ``check`` a non-zero exit fails the
    test with the command and its output; otherwise the caller asserts on ``returncode``.
    """
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env={**os.environ, **env} if env else None,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, cmd))} exited {proc.returncode} in {cwd}\n"
            f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"
        )
    return proc


def git(repo: Path, *args: str) -> str:
    """``git ARGS`` in ``repo`` (must succeed); its stdout, stripped."""
    return run(["git", *args], repo, check=True).stdout.strip()


def scratch_clone(tmp_path: Path, name: str = "repo", *, commit: str | None = None) -> Path:
    """A fresh clone of the repository at ``tmp_path/name``, checked out at HEAD (``NOVA_SPLIT_HEAD``).

    The clone is on a branch ``main`` at that commit, has a committer identity (``IDENTITY``), and
    its ``origin`` is the repository under test. Tags come along (a test that needs none deletes
    them). ``commit`` checks out another commit of the repository instead.
    """
    dest = tmp_path / name
    run(["git", "clone", "-q", "--no-checkout", buildroot(), dest], tmp_path, check=True)
    git(dest, "checkout", "-q", "-B", "main", commit or head())
    for key, value in IDENTITY.items():
        git(dest, "config", key, value)
    return dest


def share_tooling_venv(clone: Path) -> None:
    """Give ``clone`` the repository's exported tooling venv so ``nova-split`` need not export it again.

    ``build-support/bin/nova-split`` runs on the 'common' resolve's venv, exported once per
    lockfile; the same lockfile gives the same venv, so a clone of the same commit reuses it. If the
    repository has none yet (or the lockfile differs), the clone's first ``nova-split`` exports its own.
    """
    source = buildroot() / "dist/export/python/virtualenvs/common"
    if source.is_dir():
        target = clone / "dist/export/python/virtualenvs/common"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(".lock", ".export.log"))


#: clones whose Pants runs may use a daemon (inside :func:`pants_daemon`)
_DAEMON_CLONES: set[Path] = set()


def _daemon_env(repo: Path) -> dict[str, str]:
    return {} if repo.resolve() in _DAEMON_CLONES else {"PANTS_PANTSD": "false"}


def pants(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> Result:
    """``./pants ARGS`` in ``repo``; without a daemon unless inside :func:`pants_daemon`."""
    return run([repo / "pants", *args], repo, env={**_daemon_env(repo), **(env or {})})


def nova_split(repo: Path, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None) -> Result:
    """``build-support/bin/nova-split ARGS`` in ``repo`` (its nested Pants runs: as :func:`pants`)."""
    return run(
        [repo / "build-support/bin/nova-split", *args],
        repo,
        env={**_daemon_env(repo), **(env or {})},
        stdin=stdin,
    )


@contextmanager
def pants_daemon(repo: Path) -> Iterator[Path]:
    """Within the block, Pants runs in ``repo`` (:func:`pants`, :func:`nova_split`) share a daemon.

    A test that runs Pants many times in one clone (a release cut runs it five or six times) pays
    the graph load once instead of per run (about 20 s per run on two cores), and exercises the
    daemon as a user's runs do. The first run starts the daemon; it is stopped when the block
    ends, however it ends, so none outlives the scratch clone.
    """
    key = repo.resolve()
    _DAEMON_CLONES.add(key)
    try:
        yield repo
    finally:
        _DAEMON_CLONES.discard(key)
        left = stop_pants_daemon(repo)
    assert not left, f"the Pants daemon of {repo} (pid {left}) survived SIGKILL"


def stop_pants_daemon(repo: Path, timeout: float = 30.0) -> list[int]:
    """Stop the Pants daemon of ``repo`` if one runs (SIGTERM, then SIGKILL after ``timeout`` s).

    The daemon is found by the pid file Pants keeps under ``repo/.pids`` and is signalled only if
    that process still carries the name Pants recorded beside it (a reused pid is left alone).
    Returns the pids that still run afterwards (none, unless the kernel could not kill them).
    """
    left: list[int] = []
    for pid_file in sorted((repo / ".pids").glob("*/pantsd/pid")):
        try:
            pid = int(pid_file.read_text().strip())
            name = (pid_file.parent / "process_name").read_text().strip()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except (OSError, ValueError):
            continue
        if cmdline.strip() != name:
            continue
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if not _alive(pid):
                break
        if _alive(pid):
            left.append(pid)
    return left


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"
