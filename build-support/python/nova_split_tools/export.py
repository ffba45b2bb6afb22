"""The export engine: append a driver's rewritten history (``export_history``) to its standalone repository.

Decides what DEST is (new, empty, a previous export, or something to refuse), pushes only the
commits DEST lacks from a scratch object directory, keeps the snapshot that makes the next export
incremental, and checks an export against the monorepo (:func:`check_export`). The command is
``export_cmd``; ``bench_export_cmd`` times it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nova_split_tools.errors import ToolError
from nova_split_tools.export_history import ExportCommit, History, Snapshot, rewrite
from nova_split_tools.proc import git, git_probe
from nova_split_tools.repo import Repository
from nova_split_tools.subprojects import find_subproject, registered

__all__ = ["CONFIG_KEY", "REPLACED", "SNAPSHOT", "check_export", "export", "export_tip"]

CONFIG_KEY = "nova-split.export"
"""Set in a repository the export created: the driver it holds."""

SNAPSHOT = "nova-split-export.json"
"""The export's snapshot in DEST's git directory: lets the next export read only newer commits."""
REPLACED = "refs/nova-split/replaced/"
"""Where ``--replace-imported`` keeps DEST's old main."""
SCRATCH_REF = "refs/nova-split-bench/export"
"""Where :func:`check_export` fetches DEST's main in the monorepo while it checks it."""


def export_tip(dest: Path) -> str | None:
    """DEST's ``main`` (None: DEST is missing, empty, or has no ``main`` yet)."""
    if not dest.is_dir() or not (dest / ".git").exists():
        return None
    return git_probe(dest, "rev-parse", "-q", "--verify", "refs/heads/main^{commit}") or None


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
        if git_probe(dest, "config", CONFIG_KEY) == name:
            return _Dest(None, frozenset())
        raise ToolError(f"{dest} is not empty and not a previous export of {name}; pass a new directory")
    ids = history.ids()
    held = (git_probe(dest, "rev-list", tip) or "").split()
    have = frozenset(held) & ids
    if not have:
        raise ToolError(f"{dest} is not empty and not a previous export of {name}; pass a new directory")
    if git_probe(dest, "status", "--porcelain", "--untracked-files=no"):
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
    subproject = find_subproject((s for s in registered(root) if s.is_driver), name)
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
    git_dir = git_probe(dest, "rev-parse", "--absolute-git-dir")
    return Path(git_dir) / SNAPSHOT if git_dir else None


def _save(history: History, dest: Path) -> None:
    file = _snapshot_file(dest)
    if file is not None and history.snapshot is not None:
        history.snapshot.save(file)


def check_export(mono: Path, dest: Path, prefix: str) -> tuple[int, list[str]]:
    """Exported commits checked against their ``Monorepo-Commit:``, and the problems found."""
    git(mono, "fetch", "-q", "--no-tags", str(dest.resolve()), f"+refs/heads/main:{SCRATCH_REF}")
    try:
        log = git(mono, "log", "--format=%H %T %(trailers:key=Monorepo-Commit,valueonly,separator=%x2C)", SCRATCH_REF)
        fields = [(line.split(" ", 2) + [""])[:3] for line in log.splitlines()]
        problems = [f"{c[:12]} has no Monorepo-Commit trailer" for c, _, origin in fields if not origin.strip()]
        rows = [(c, tree, origin.strip()) for c, tree, origin in fields if origin.strip()]
        query = "".join(f"{origin}:{prefix}\n" for _, _, origin in rows)
        subtrees = git(mono, "cat-file", "--batch-check=%(objectname)", stdin=query).split("\n")
        pairs: dict[tuple[str, str], str] = {}
        for (commit, tree, origin), subtree in zip(rows, subtrees, strict=False):
            if subtree.endswith(" missing") or not subtree:
                problems.append(f"{commit[:12]}: {origin[:12]}:{prefix} does not exist")
            elif subtree != tree:
                pairs.setdefault((subtree, tree), commit)
        current: tuple[str, str] | None = None
        diff = git(mono, "diff-tree", "--stdin", "-r", stdin="".join(f"{a} {b}\n" for a, b in pairs))
        for line in diff.splitlines():
            if not line.startswith(":"):
                current = (line.split()[0], line.split()[1])
            elif current and not (line.split()[4] == "A" and line.endswith("\tLICENSE")):
                problems.append(f"{pairs[current][:12]}: tree differs from its monorepo commit's {prefix}: {line}")
        return len(rows), problems
    finally:
        git(mono, "update-ref", "-d", SCRATCH_REF)
