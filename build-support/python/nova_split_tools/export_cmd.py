"""export: a driver's history as its own repository, kept in sync by appending (see export_history).

The export has the driver's directory at its root plus the monorepo's LICENSE; each commit is a
monorepo commit that touched them, with its author, committer, dates and message and a
``Monorepo-Commit: <id>`` trailer; merges stay merges. The same monorepo history always gives the
same commit ids, so exporting again after new monorepo commits only appends them (a fast-forward
of DEST's ``main``), which is what lets CI push the export to the driver team's repository on
every merge. DEST must be new, empty, or a previous export of the same driver (a clone of one
will do); ``--dry-run`` lists what would be appended and writes nothing. Commits made in the
export come back with ``nova-split import``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

from nova_split_tools.clone_cmd import find_driver, registered
from nova_split_tools.errors import ToolError
from nova_split_tools.export_history import ExportCommit, History, rewrite
from nova_split_tools.proc import git
from nova_split_tools.repo import Repository

__all__ = ["CONFIG_KEY", "add_arguments", "export", "export_tip", "run"]

CONFIG_KEY = "nova-split.export"
"""Set in a repository the export created: the driver it holds."""

_SHOWN = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("subproject", help="a driver name (xen) or directory (drivers/xen)")
    parser.add_argument("dest", type=Path, help="the standalone repository (new, empty or a previous export)")
    parser.add_argument("--rev", default="HEAD", help="the monorepo revision to export (default: %(default)s)")
    parser.add_argument("--dry-run", action="store_true", help="list the commits that would be appended")


def _git_quiet(cwd: Path, *args: str) -> str:
    """``git ARGS`` in ``cwd``: stdout, or '' when git fails (probing a directory that may not be a repo)."""
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def export_tip(dest: Path) -> str | None:
    """DEST's ``main`` (None: DEST is missing, empty, or has no ``main`` yet)."""
    if not dest.is_dir() or not (dest / ".git").exists():
        return None
    return _git_quiet(dest, "rev-parse", "-q", "--verify", "refs/heads/main^{commit}") or None


def _previous(dest: Path, name: str, history: History) -> str | None:
    """DEST's exported tip (None if DEST is new or empty); refuse anything else, in one line."""
    if not dest.exists() or (dest.is_dir() and not any(dest.iterdir())):
        return None
    if not dest.is_dir() or not (dest / ".git").exists():
        raise ToolError(f"{dest} is not empty and not a previous export of {name}; pass a new directory")
    tip = export_tip(dest)
    marked = _git_quiet(dest, "config", CONFIG_KEY) == name
    if tip is None and marked:
        return None
    if tip is not None and tip in history.ids():
        if _git_quiet(dest, "status", "--porcelain", "--untracked-files=no"):
            raise ToolError(f"{dest} has uncommitted changes to tracked files; commit or stash them, then export")
        return tip
    if tip is not None and (marked or "Monorepo-Commit: " in _git_quiet(dest, "log", "-1", "--format=%B", tip)):
        raise ToolError(
            f"{dest}'s main ({tip[:12]}) has commits that are not in the monorepo: bring them back with "
            f"`nova-split import {name} {dest}`, then export again"
        )
    raise ToolError(f"{dest} is not empty and not a previous export of {name}; pass a new directory")


def export(root: Path, name: str, dest: Path, *, dry_run: bool = False, rev: str = "HEAD") -> list[ExportCommit]:
    """Append the commits of ``name``'s export that DEST lacks; those commits, oldest first."""
    subproject = find_driver(registered(root), name)
    history = rewrite(root, subproject.path, Repository(root).resolve(rev))
    if history.head is None:
        raise ToolError(f"{subproject.path} does not exist at {rev}: nothing to export")
    previous = _previous(dest, subproject.name, history)
    have = history.ancestry(previous) if previous else set()
    wanted = history.ancestry(history.head)
    new = [c for c in history.commits if c.commit in wanted and c.commit not in have]
    if dry_run or not new:
        return new
    if previous is None and not (dest / ".git").exists():
        dest.mkdir(parents=True, exist_ok=True)
        git(dest, "init", "-q", "-b", "main")
        git(dest, "config", CONFIG_KEY, subproject.name)
    with tempfile.TemporaryDirectory(prefix="nova-split-export-") as quarantine:
        # The new commits and trees go to a scratch object directory, not the monorepo's; the push
        # reads them (and DEST's own objects, for the old tip) as alternates and sends one pack.
        history.write(Path(quarantine), only={c.commit for c in new})
        dest_objects = git(dest, "rev-parse", "--path-format=absolute", "--git-path", "objects").strip()
        # DEST's main may be checked out: the push updates its work tree too.
        git(dest, "config", "receive.denyCurrentBranch", "updateInstead")
        env = {"GIT_ALTERNATE_OBJECT_DIRECTORIES": os.pathsep.join([quarantine, dest_objects])}
        git(root, "push", "-q", str(dest.resolve()), f"{history.head}:refs/heads/main", env=env)
    return new


def run(args: argparse.Namespace) -> int:
    root = Repository(args.repo).root
    new = export(root, args.subproject, args.dest, dry_run=args.dry_run, rev=args.rev)
    shown = new if args.dry_run else new[-_SHOWN:]
    if len(shown) < len(new):
        print(f"... {len(new) - len(shown)} earlier commit(s)")
    for c in shown:
        print(f"{c.commit[:12]} {c.monorepo_commit[:12]} {c.subject}")
    verb = "would append" if args.dry_run else "appended"
    print(f"export: {verb} {len(new)} commit(s) to {args.dest}")
    return 0
