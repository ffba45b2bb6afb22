"""export: a subproject's history as a standalone repository (the subproject's directory at root).

Only the commits of HEAD that touched the subproject (``git rev-list -- <dir>``, oldest first,
linearized) are rewritten: tree = the subproject's subtree, author, committer, dates and message
kept, plus a ``Monorepo-Commit: <id>`` trailer. Commit objects are written byte for byte from the
originals' headers, so the same input always gives the same ids, and re-exporting appends only
the new commits (a fast-forward push to DEST's ``main``). DEST must be new, empty or a previous
export of the same subproject (recorded in its ``nova-split.export`` git config); ``--dry-run``
lists what would be appended and writes nothing to DEST.
"""

from __future__ import annotations

import argparse
import subprocess
from dataclasses import dataclass
from pathlib import Path

from nova_split_tools.clone_cmd import find_driver, registered
from nova_split_tools.errors import ToolError
from nova_split_tools.proc import git
from nova_split_tools.repo import Repository

__all__ = ["Exported", "add_arguments", "export", "run"]


@dataclass(frozen=True)
class Exported:
    commit: str
    monorepo_commit: str
    subject: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("subproject", help="a driver name (xen) or directory (drivers/xen)")
    parser.add_argument("dest", type=Path, help="the standalone repository (new, empty or a previous export)")
    parser.add_argument("--dry-run", action="store_true", help="list the commits that would be appended")


def rewrite(root: Path, path: str, *, write: bool) -> list[Exported]:
    """The rewritten chain for every commit of HEAD that touched ``path``, oldest first."""
    chain: list[Exported] = []
    parent: str | None = None
    for original in git(root, "rev-list", "--reverse", "--topo-order", "HEAD", "--", path).split():
        raw = git(root, "cat-file", "commit", original)
        headers, _, message = raw.partition("\n\n")
        people = [h for h in headers.splitlines() if h.startswith(("author ", "committer "))]
        tree = git(root, "rev-parse", f"{original}:{path}").strip()
        message = git(root, "interpret-trailers", "--trailer", f"Monorepo-Commit: {original}", stdin=message)
        text = f"tree {tree}\n" + (f"parent {parent}\n" if parent else "") + "\n".join(people) + "\n\n" + message
        args = ["hash-object", "-t", "commit", "--stdin", *(["-w"] if write else [])]
        parent = git(root, *args, stdin=text).strip()
        chain.append(Exported(parent, original, message.splitlines()[0] if message else ""))
    return chain


def _previous(dest: Path, name: str) -> str | None:
    """DEST's exported tip (None if DEST is new or empty); refuse anything else."""
    if not dest.exists() or (dest.is_dir() and not any(dest.iterdir())):
        return None
    marker = subprocess.run(["git", "config", "nova-split.export"], cwd=dest, capture_output=True, text=True)
    if not dest.is_dir() or marker.stdout.strip() != name:
        raise ToolError(f"{dest} is not empty and not a previous export of {name}; pass a new directory")
    head = subprocess.run(["git", "rev-parse", "-q", "--verify", "main"], cwd=dest, capture_output=True, text=True)
    return head.stdout.strip() or None


def export(root: Path, name: str, dest: Path, *, dry_run: bool = False) -> list[Exported]:
    """Append ``name``'s new commits to DEST; the appended ones."""
    subproject = find_driver(registered(root), name)
    previous = _previous(dest, subproject.name)
    chain = rewrite(root, subproject.path, write=not dry_run)
    ids = [e.commit for e in chain]
    if previous is not None and previous not in ids:
        raise ToolError(f"{dest}'s main ({previous[:12]}) is not in the export of {name}; was the history rewritten?")
    new = chain[ids.index(previous) + 1 :] if previous else chain
    if dry_run or not new:
        return new
    if previous is None:
        dest.mkdir(parents=True, exist_ok=True)
        git(dest, "init", "-q", "-b", "main")
        git(dest, "config", "nova-split.export", subproject.name)
        git(dest, "config", "receive.denyCurrentBranch", "updateInstead")
    git(root, "push", "-q", str(dest.resolve()), f"{new[-1].commit}:refs/heads/main")
    return new


def run(args: argparse.Namespace) -> int:
    root = Repository(args.repo).root
    new = export(root, args.subproject, args.dest, dry_run=args.dry_run)
    for e in new:
        print(f"{e.commit[:12]} {e.monorepo_commit[:12]} {e.subject}")
    verb = "would append" if args.dry_run else "appended"
    print(f"export: {verb} {len(new)} commit(s) to {args.dest}")
    return 0
