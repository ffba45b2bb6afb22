"""What a command is told changed: a revision range or a list of paths, as :class:`~nova_split_tools.repo.Change` s.

Shared by the commands that act on a change (``plan``, ``review``): the same arguments, the same
default (the merge base with the main branch to HEAD) and the same one-line refusals.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path, PurePosixPath

from nova_split_tools.errors import ToolError
from nova_split_tools.repo import Change, Repository

__all__ = ["add_change_arguments", "parse_range", "read_paths"]


def add_change_arguments(parser: argparse.ArgumentParser) -> None:
    """How a command is told what changed: a revision range, or paths (``--paths-from``)."""
    parser.add_argument(
        "revisions", nargs="?", metavar="BASE[..HEAD]", help="revision range (default: merge base with main..HEAD)"
    )
    parser.add_argument("--paths-from", metavar="FILE", help="read changed paths from FILE, one per line ('-': stdin)")


def parse_range(repo: Repository, text: str | None) -> tuple[str, str | None]:
    if not text:
        return repo.default_base(), None
    base, sep, head = text.partition("..")
    base_id = repo.resolve(base)
    if not sep or not head:
        return base_id, None
    head_id = repo.resolve(head)
    return base_id, (None if head_id == repo.resolve("HEAD") else head_id)


def read_paths(root: Path, source: str) -> list[Change]:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text()
    except OSError as e:
        raise ToolError(f"cannot read --paths-from {source}: {e.strerror}") from None
    changes = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        path = Path(line)
        full = path if path.is_absolute() else root / path
        try:
            rel = full.resolve().relative_to(root.resolve())
        except ValueError:
            raise ToolError(f"{line} is outside the repository at {root}; list paths relative to it") from None
        rel_posix = PurePosixPath(rel).as_posix()
        changes.append(Change(path=rel_posix, status="M" if full.exists() else "D"))
    if not changes:
        raise ToolError(f"--paths-from {source} listed no paths")
    return changes
