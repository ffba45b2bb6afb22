"""A release cut's progress in the git dir, so any interruption can be finished or undone (like ``git rebase``).

Layout, under ``<git common dir>/nova-split-release/``:

``lock``
    ``<pid> <distribution> <version>`` of the process running a cut, which holds an ``flock`` on
    it: a second cut in the same clone is refused naming the first. The kernel drops the lock
    when the process dies, so a file left by a killed cut (or whose pid was reused) holds nothing.
``state.json``
    the :class:`CutState`: what is released, where it started (commit and branch) and the last
    step begun and done. Written atomically (temporary file, fsync, rename) *before* each step
    that changes anything, so after SIGKILL or power loss it tells ``--continue``/``--abort``
    exactly what to finish or undo.
``tag-wheels/``
    nova-common wheels built from release tags for the install checks, kept (a tag's wheel does not
    change), so later cuts in the clone need not build them again.
``scratch/``
    temporary venvs, ``git worktree``\\ s and the wheel until its tag exists; removed on every path,
    and at the start of the next command when a killed cut left it behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from nova_split_tools.errors import ToolError
from nova_split_tools.proc import git, git_probe

__all__ = [
    "STOP_ENV",
    "STEPS",
    "CutState",
    "StateDir",
    "interrupts_as_keyboard_interrupt",
    "stop_hook",
]

#: The steps of a cut, in order. ``begin`` records the starting point and changes nothing.
STEPS = ("begin", "version", "notes", "test", "package", "install", "commit", "tag", "publish")

#: Test hook: ``STEP`` or ``STEP:SIGNAL`` (KILL, TERM, INT or STOP; KILL by default) sends the signal to
#: the cutting process itself right after ``STEP`` is done and recorded (STOP: it waits, alive, holding
#: the lock, until SIGCONT); ``TERMGROUP``/``INTGROUP`` signal its whole process group, as
#: ``timeout`` does. Documented in docs/releases.md;
#: the crash tests (release_crash_test.py, the release self-test) kill a real cut at every boundary with it.
STOP_ENV = "NOVA_SPLIT_RELEASE_STOP_AFTER"


@dataclass
class CutState:
    """What an unfinished cut was doing."""

    subproject: str
    path: str
    distribution: str
    version: str
    tag: str
    start: str
    branch: str | None
    had_changelog: bool
    step: str = "begin"
    done: bool = False
    commit: str | None = None
    wheel: str | None = None
    published: str | None = None
    pid: int = field(default_factory=os.getpid)
    #: the work tree the cut runs in (the state is shared by all worktrees of the clone); None in
    #: the state of an older tool
    worktree: str | None = None

    @property
    def committed(self) -> bool:
        return self.commit is not None

    def describe(self) -> str:
        progress = f"step '{self.step}' {'done' if self.done else 'begun'}"
        return f"a release cut of {self.distribution} {self.version} (pid {self.pid}) stopped at {progress}"


class StateDir:
    """The ``nova-split-release`` directory in a clone's git dir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        common = Path(git(root, "rev-parse", "--git-common-dir").strip())
        self.path = (common if common.is_absolute() else root / common) / "nova-split-release"
        self.lock = self.path / "lock"
        self.file = self.path / "state.json"
        self.scratch = self.path / "scratch"
        self.tag_wheels = self.path / "tag-wheels"

    # -- the state file ------------------------------------------------------------------------

    def load(self) -> CutState | None:
        try:
            data: dict[str, Any] = json.loads(self.file.read_text())
            return CutState(**data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as e:  # TypeError: not an object, missing or unknown fields
            raise ToolError(f"{self.file} is unreadable ({e}); inspect it, then delete it to start over") from None

    def save(self, state: CutState) -> None:
        """Replace the state file atomically: a reader sees the old state or the new one, never half."""
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_suffix(".tmp")
        with tmp.open("w") as f:
            json.dump(asdict(state), f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.file)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def clear(self) -> None:
        self.file.unlink(missing_ok=True)
        self.file.with_suffix(".tmp").unlink(missing_ok=True)

    # -- the lock -------------------------------------------------------------------------------

    def holder(self) -> tuple[int, str] | None:
        """(pid, what) of the process holding the lock, or None when no process holds it.

        The lock is an ``flock`` on the file, which the kernel drops when its holder exits however
        it exits (SIGKILL, power loss), so a leftover file is never mistaken for a live cut, even
        when its pid has been reused by another process.
        """
        try:
            fd = os.open(self.lock, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                pid_text, _, what = os.read(fd, 4096).decode(errors="replace").partition(" ")
                return (int(pid_text) if pid_text.isdigit() else 0), what.strip()
            return None
        finally:
            os.close(fd)  # drops the shared lock taken to probe

    @contextmanager
    def locked(self, what: str) -> Iterator[Callable[[str], None]]:
        """Hold the lock for this process; refuse in one line when another live cut holds it.

        Yields ``relabel(what)``, which changes what the lock file says the holder is doing (a cut
        takes the lock before it plans, and names its version once planned)."""
        self.path.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.lock, os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                held = self.holder()
                if held is None:  # probed by another release command at this very moment
                    busy = "the release lock is busy (another nova-split release command); run this one again"
                    raise ToolError(busy) from None
                raise ToolError(
                    f"another release cut is running in this clone (pid {held[0]}: {held[1]}); wait for it to finish"
                ) from None
            try:  # the holder before us may have removed the file after we opened it: lock the one in place
                same = os.stat(self.lock).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)

        def relabel(label: str) -> None:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {label}\n".encode(), 0)

        try:
            relabel(what)
            yield relabel
        finally:
            self.lock.unlink(missing_ok=True)  # before the close: nobody can lock the removed file after us
            os.close(fd)

    # -- scratch: venvs, worktrees, the wheel before its tag ------------------------------------

    def clean_scratch(self) -> None:
        """Remove the scratch dir and every git worktree registered inside it (also a killed cut's)."""
        listing = git(self.root, "worktree", "list", "--porcelain")
        for line in listing.splitlines():
            if line.startswith("worktree "):
                tree = Path(line.removeprefix("worktree "))
                if tree.is_relative_to(self.scratch):
                    git_probe(self.root, "worktree", "remove", "--force", str(tree))
        shutil.rmtree(self.scratch, ignore_errors=True)
        git(self.root, "worktree", "prune")

    def clear_git_locks(self) -> list[str]:
        """A git command killed with the cut can leave ``index.lock``; wait briefly, then remove it."""
        gitdir = Path(git(self.root, "rev-parse", "--absolute-git-dir").strip())
        removed = []
        for lock in (gitdir / "index.lock", gitdir / "HEAD.lock"):
            deadline = time.monotonic() + 3
            while lock.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            if lock.exists():
                lock.unlink(missing_ok=True)
                removed.append(lock.name)
        return removed


def stop_hook(step: str) -> None:
    """The :data:`STOP_ENV` test hook: signal this process right after ``step``."""
    wanted = os.environ.get(STOP_ENV, "")
    name, _, sig = wanted.partition(":")
    if name != step:
        return
    signals = {
        "KILL": signal.SIGKILL,
        "TERM": signal.SIGTERM,
        "INT": signal.SIGINT,
        "HUP": signal.SIGHUP,
        "STOP": signal.SIGSTOP,
    }
    signum = signals.get((sig or "KILL").removesuffix("GROUP"))
    if signum is None:
        raise ToolError(f"{STOP_ENV}={wanted}: the signal must be KILL, TERM, INT, HUP or STOP (+GROUP)")
    if sig.endswith("GROUP"):  # as `timeout` and a terminal's Ctrl-C do: the whole process group
        os.killpg(os.getpgrp(), signum)
    else:
        os.kill(os.getpid(), signum)
    if signum != signal.SIGSTOP:
        time.sleep(5)  # the signal arrives; KILL never returns, TERM/INT raise KeyboardInterrupt here


#: The signals that interrupt a cut: Ctrl-C, SIGTERM (CI cancellation, ``timeout``, ``docker
#: stop``) and SIGHUP (the terminal closed).
INTERRUPTS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def interrupts_as_keyboard_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (unless ``nohup`` ignores it) handled like Ctrl-C for the block. The first one raises
    KeyboardInterrupt; later ones are ignored, so the restore that follows the first is not cut
    short by a second (``timeout`` and CI runners send several).

    Once one has fired, they stay ignored after the block too: the process is on its way out, and
    a later signal must not kill it (or turn the exception into another) before the one line that
    says what was restored is written. A block that ends without an interrupt gives the previous
    handlers back."""
    fired = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        fired = True
        for sig in INTERRUPTS:
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt(f"interrupted by signal {signal.Signals(signum).name}")

    # SIGHUP ignored already (``nohup``: the user asked the release to outlive the terminal) stays so
    handled = [sig for sig in INTERRUPTS if sig != signal.SIGHUP or signal.getsignal(sig) is not signal.SIG_IGN]
    previous = {sig: signal.signal(sig, handler) for sig in handled}
    try:
        yield
    finally:
        if not fired:
            for sig, handling in previous.items():
                signal.signal(sig, handling)


@contextmanager
def shielded() -> Iterator[None]:
    """The block (a restore) runs to its end: INTERRUPTS are ignored until it is done."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in INTERRUPTS}
    try:
        yield
    finally:
        for sig, handling in previous.items():
            signal.signal(sig, handling)
