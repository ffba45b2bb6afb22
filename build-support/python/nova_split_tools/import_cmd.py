"""import: bring commits made in a driver's export back to the monorepo, under the driver's directory.

The round trip of ``nova-split export``. It fetches REV of SOURCE (the export, or the driver
team's clone of it), takes the commits on it that are not in the monorepo's export (a linear
branch on top of an exported commit) and applies each under ``drivers/<name>/`` on the current
branch, keeping its author and committer (names, e-mails and dates) and its message, plus an
``Export-Commit: <id>`` trailer. When the branch starts at the monorepo's current export, the
next export gives those very commits back with their ids, so the team's ``main`` stays a
fast-forward; otherwise they are applied like a rebase (three-way) and say so.

Refused, in one line and before anything is written: a commit that changes a file outside the
driver (the LICENSE the export takes from the monorepo root), one that edits a file generated in
the monorepo (change its source instead), a merge, a signed commit (its signature cannot survive),
a branch not based on this monorepo's export, a dirty work tree, and a conflict.
``--dry-run`` lists what would be imported and changes no branch.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

from nova_split_tools.import_commits import import_commits
from nova_split_tools.output import add_format_argument, print_json
from nova_split_tools.repo import Repository

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("subproject", help="a driver name (xen) or directory (drivers/xen)")
    parser.add_argument("source", help="the export (a path or URL): its commits come back")
    parser.add_argument("--rev", default="main", help="the branch of SOURCE to import (default: %(default)s)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be imported; change no branch")
    add_format_argument(parser)


def run(args: argparse.Namespace) -> int:
    root = Repository(args.repo).root
    result = import_commits(root, args.subproject, args.source, rev=args.rev, dry_run=args.dry_run)
    made = result.commits
    if args.format == "json":
        print_json(
            "import",
            {
                "path": result.path,
                "dry_run": args.dry_run,
                "keeps_ids": result.keeps_ids,
                "commits": [asdict(m) for m in made],
            },
        )
        return 0
    how = "the next export keeps their ids" if result.keeps_ids else "rebased onto newer monorepo work: new ids"
    for m in made:
        arrow = f" -> {m.monorepo_commit[:12]}" if m.monorepo_commit else ""
        print(f"{m.export_commit[:12]}{arrow} {m.author}: {m.subject}")
    if not made:
        print(f"import: nothing to import: {args.rev} of {args.source} is already in the monorepo's export")
    else:
        verb = "would apply" if args.dry_run else "applied"
        print(f"import: {verb} {len(made)} commit(s) under {result.path}/ ({how})")
    return 0
