"""Committed files generated from the repository's own data, and their ``--check`` mode."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path

from nova_split_tools.errors import CheckFailed

__all__ = ["sync_generated"]


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
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
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
