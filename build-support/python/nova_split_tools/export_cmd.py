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
from dataclasses import dataclass
from pathlib import Path

from nova_split_tools.clone_cmd import find_driver, registered
from nova_split_tools.errors import ToolError
from nova_split_tools.export_history import ExportCommit, History, Snapshot, rewrite
from nova_split_tools.proc import git
from nova_split_tools.repo import Repository

__all__ = ["CONFIG_KEY", "REPLACED", "add_arguments", "export", "export_tip", "run"]

CONFIG_KEY = "nova-split.export"
"""Set in a repository the export created: the driver it holds."""

SNAPSHOT = "nova-split-export.json"
"""The export's snapshot in DEST's git directory: lets the next export read only newer commits."""
REPLACED = "refs/nova-split/replaced/"
"""Where ``--replace-imported`` keeps DEST's old main."""
_SHOWN = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("subproject", help="a driver name (xen) or directory (drivers/xen)")
    parser.add_argument("dest", type=Path, help="the standalone repository (new, empty or a previous export)")
    parser.add_argument("--rev", default="HEAD", help="the monorepo revision to export (default: %(default)s)")
    parser.add_argument("--dry-run", action="store_true", help="list the commits that would be appended")
    parser.add_argument(
        "--replace-imported",
        action="store_true",
        help="let DEST's main drop commits the monorepo imported rebased (the old main is kept under "
        + "refs/nova-split/replaced/)",
    )


def _git_quiet(cwd: Path, *args: str) -> str:
    """``git ARGS`` in ``cwd``: stdout, or '' when git fails (probing a directory that may not be a repo)."""
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def export_tip(dest: Path) -> str | None:
    """DEST's ``main`` (None: DEST is missing, empty, or has no ``main`` yet)."""
    if not dest.is_dir() or not (dest / ".git").exists():
        return None
    return _git_quiet(dest, "rev-parse", "-q", "--verify", "refs/heads/main^{commit}") or None


@dataclass(frozen=True)
class _Dest:
    """What DEST holds: its main, the export's commits it has, and commits an update would drop."""

    tip: str | None
    have: frozenset[str]
    dropped: tuple[str, ...] = ()


def _inspect(root: Path, dest: Path, name: str, history: History, rev: str, replace_imported: bool) -> _Dest:
    """DEST as a target for the export; anything else is refused in one line."""
    if not dest.exists() or (dest.is_dir() and not any(dest.iterdir())):
        return _Dest(None, frozenset())
    if not dest.is_dir() or not (dest / ".git").exists():
        raise ToolError(f"{dest} is not empty and not a previous export of {name}; pass a new directory")
    tip = export_tip(dest)
    if tip is None:
        if _git_quiet(dest, "config", CONFIG_KEY) == name:
            return _Dest(None, frozenset())
        raise ToolError(f"{dest} is not empty and not a previous export of {name}; pass a new directory")
    ids = history.ids()
    held = _git_quiet(dest, "rev-list", tip).split()
    have = frozenset(held) & ids
    if not have:
        raise ToolError(f"{dest} is not empty and not a previous export of {name}; pass a new directory")
    if _git_quiet(dest, "status", "--porcelain", "--untracked-files=no"):
        raise ToolError(f"{dest} has uncommitted changes to tracked files; commit or stash them, then export")
    extra = tuple(c for c in held if c not in ids)
    if not extra:
        return _Dest(tip, have)
    imported = set(git(root, "log", "--format=%(trailers:key=Export-Commit,valueonly)", rev).split())
    if not set(extra) <= imported:
        raise ToolError(
            f"{dest}'s main ({tip[:12]}) has commits that are not in the monorepo: bring them back with "
            f"`nova-split import {name} {dest}`, then export again"
        )
    if not replace_imported:
        raise ToolError(
            f"{dest}'s main has {len(extra)} commit(s) the monorepo took in rebased (see its Export-Commit "
            "trailers); pass --replace-imported to move main to the export "
            f"(the old main stays at {REPLACED}{tip[:12]})"
        )
    return _Dest(tip, have, extra)


def export(
    root: Path,
    name: str,
    dest: Path,
    *,
    dry_run: bool = False,
    rev: str = "HEAD",
    replace_imported: bool = False,
) -> list[ExportCommit]:
    """Append the commits of ``name``'s export that DEST lacks; those commits, oldest first.

    With ``replace_imported``, DEST's main may also lose commits that the monorepo imported
    rebased (their replacements are in the export); its old main is kept under ``REPLACED``.
    """
    subproject = find_driver(registered(root), name)
    commit = Repository(root).resolve(rev)
    snapshot_file = _snapshot_file(dest)
    since = Snapshot.load(snapshot_file, subproject.path) if snapshot_file else None
    history = rewrite(root, subproject.path, commit, since)
    if history.head is None:
        raise ToolError(f"{subproject.path} does not exist at {rev}: nothing to export")
    target = _inspect(root, dest, subproject.name, history, commit, replace_imported)
    wanted = history.ancestry(history.head)
    new = [c for c in history.commits if c.commit in wanted and c.commit not in target.have]
    if dry_run:
        return new
    if not (new or target.dropped):
        _save(history, dest)
        return new
    if target.tip is None and not (dest / ".git").exists():
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
        refspec = f"{history.head}:refs/heads/main"
        if target.dropped and target.tip:
            git(dest, "update-ref", f"{REPLACED}{target.tip[:12]}", target.tip)
            refspec = "+" + refspec
        git(root, "push", "-q", str(dest.resolve()), refspec, env=env)
    _save(history, dest)
    return new


def _snapshot_file(dest: Path) -> Path | None:
    """Where DEST keeps the export's snapshot (inside its git directory); None if DEST is no repository."""
    if not (dest / ".git").exists():
        return None
    git_dir = _git_quiet(dest, "rev-parse", "--absolute-git-dir")
    return Path(git_dir) / SNAPSHOT if git_dir else None


def _save(history: History, dest: Path) -> None:
    file = _snapshot_file(dest)
    if file is not None and history.snapshot is not None:
        history.snapshot.save(file)


def run(args: argparse.Namespace) -> int:
    root = Repository(args.repo).root
    new = export(
        root, args.subproject, args.dest, dry_run=args.dry_run, rev=args.rev, replace_imported=args.replace_imported
    )
    shown = new if args.dry_run else new[-_SHOWN:]
    if len(shown) < len(new):
        print(f"... {len(new) - len(shown)} earlier commit(s)")
    for c in shown:
        print(f"{c.commit[:12]} {c.monorepo_commit[:12]} {c.subject}")
    verb = "would append" if args.dry_run else "appended"
    print(f"export: {verb} {len(new)} commit(s) to {args.dest}")
    return 0
