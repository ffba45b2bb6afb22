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
from pathlib import Path

from nova_common_cli.progress import Progress
from nova_split_tools.export import export
from nova_split_tools.output import add_format_argument, print_json
from nova_split_tools.repo import Repository

__all__ = ["add_arguments", "run"]

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
    add_format_argument(parser)


def run(args: argparse.Namespace) -> int:
    root = Repository(args.repo).root
    with Progress(f"export {args.subproject} to {args.dest}"):
        new = export(
            root, args.subproject, args.dest, dry_run=args.dry_run, rev=args.rev, replace_imported=args.replace_imported
        )
    if args.format == "json":
        commits = [{"commit": c.commit, "monorepo_commit": c.monorepo_commit, "subject": c.subject} for c in new]
        print_json("export", {"dest": str(args.dest), "dry_run": args.dry_run, "commits": commits})
        return 0
    shown = new if args.dry_run else new[-_SHOWN:]
    if len(shown) < len(new):
        print(f"... {len(new) - len(shown)} earlier commit(s)")
    for c in shown:
        print(f"{c.commit[:12]} {c.monorepo_commit[:12]} {c.subject}")
    verb = "would append" if args.dry_run else "appended"
    print(f"export: {verb} {len(new)} commit(s) to {args.dest}")
    return 0
