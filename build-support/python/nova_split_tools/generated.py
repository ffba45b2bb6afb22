"""Committed files generated from the repository's own data, and their ``--check`` mode.

A generated file is replaced atomically (:func:`write_atomically`): a run killed while writing
leaves the old file whole, plus at most a temporary sibling named ``.<name>.<random>.nova-split-tmp``
(git-ignored, matched by no candidates glob) that the next writing run removes.
"""

from __future__ import annotations

import difflib
import fcntl
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from nova_split_tools.errors import CheckFailed

__all__ = ["TEMP_SUFFIX", "remove_stale_temporaries", "sync_generated", "write_atomically"]

#: The suffix of a generated file's temporary sibling while it is written.
TEMP_SUFFIX = ".nova-split-tmp"


def sync_generated(
    root: Path,
    files: Mapping[str, str],
    *,
    header: str,
    candidates: Iterable[Path],
    check: bool,
    command: str,
) -> None:
    """Write ``files`` (repo-relative path -> content) and remove stale generated ones.

    ``candidates`` are existing paths that may be earlier output no longer produced (e.g. the
    workflow of a removed driver); only those starting with ``header`` are touched. With
    ``check``, nothing is written: every difference is printed as a diff and a ToolError names
    the stale files and ``command``, which regenerates them. Files are UTF-8 whatever the locale.
    """
    stale: list[str] = []
    if not check:
        for leftover in remove_stale_temporaries({(root / rel).parent for rel in files}):
            print(f"removed {leftover.relative_to(root).as_posix()} (left by an interrupted run)")
    for rel, content in files.items():
        path = root / rel
        current = _read(path)
        if current == content:
            continue
        stale.append(rel)
        if check:
            diff = difflib.unified_diff(current.splitlines(True), content.splitlines(True), f"a/{rel}", f"b/{rel}")
            print("".join(diff), end="")
        else:
            write_atomically(path, content)
            print(f"wrote {rel}")
    for old in sorted(candidates):
        rel = old.relative_to(root).as_posix()
        if rel not in files and _read(old).startswith(header):
            stale.append(rel)
            if check:
                print(f"--- a/{rel}\n+++ /dev/null (no longer generated)")
            else:
                old.unlink()
                print(f"removed {rel} (no longer generated)")
    if check and stale:
        raise CheckFailed(
            f"{len(stale)} generated file(s) are stale ({', '.join(stale)}); regenerate them with: {command}", stale
        )
    if check:
        print(f"{command.split()[-1]}: {len(files)} generated file(s) are current")


def _read(path: Path) -> str:
    """``path``'s text; "" if it does not exist, and its bytes decoded with replacement if it is
    not UTF-8 (damaged: it then differs from what is generated, so it is stale, not a crash)."""
    if not path.exists():
        return ""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace") + "\n(not UTF-8)\n"


def write_atomically(path: Path, content: str) -> None:
    """Replace ``path`` with ``content`` (UTF-8) so that a reader, or a run killed at any moment,
    sees the old file or the new one, never a part.

    The text goes to a temporary file in the same directory (``.<name>.<random>`` + ``TEMP_SUFFIX``),
    is flushed and fsynced, gets ``path``'s mode (a new file: the mode ``open`` would give it under
    the umask), and is renamed over ``path``; the directory is fsynced after. While it is written the
    temporary file is flock'ed, so :func:`remove_stale_temporaries` never removes a live one. On an
    error it is removed and the error raised.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            f.write(content.encode("utf-8"))
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
            os.replace(tmp, path)  # before the close: the lock is held until the file has its name
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def remove_stale_temporaries(directories: Iterable[Path]) -> list[Path]:
    """Remove the temporary files killed runs of :func:`write_atomically` left in ``directories``.

    Only files ending in ``TEMP_SUFFIX`` that no process holds locked are removed (a live writer
    holds its lock until the rename); the removed paths are returned, sorted.
    """
    removed: list[Path] = []
    for directory in sorted(set(directories)):
        for leftover in sorted(directory.glob(f".*{TEMP_SUFFIX}")):
            try:
                fd = os.open(leftover, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:  # gone meanwhile, or a symlink: not ours
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a writer is at work on it
                os.close(fd)
                continue
            try:
                leftover.unlink(missing_ok=True)
                removed.append(leftover)
            finally:
                os.close(fd)
    return removed


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
