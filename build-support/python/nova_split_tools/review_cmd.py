"""review: the approvals a change needs, and (--check) whether it has them.

Every subproject the change touches needs one member of its team (see ``nova_split_tools.owners``:
drivers own their directories, the core team everything else), and all of those teams (AND across
subprojects). A change to the public driver API (``api_surface.is_api_file``) also needs the team
of every driver that uses a changed symbol, found by reading the drivers' imports.
Input is a revision range ``A..B``: the changes on B since it left A, from their merge base (as for
``plan``; default: main..HEAD), or ``--paths-from FILE`` (changes
in the work tree against HEAD). ``--check --approved-by alice,bob`` fails naming each team still
missing an approval: the CI gate that CODEOWNERS cannot express.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from nova_split_tools.approvals import Approval, required_approvals
from nova_split_tools.changes import add_change_arguments, parse_range, read_paths
from nova_split_tools.errors import ToolError
from nova_split_tools.repo import Change, Repository
from nova_split_tools.subprojects import load_subprojects
from nova_split_tools.table import print_table

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_change_arguments(parser)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--approved-by", default="", metavar="USER,...", help="who has approved the change")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every needed team has approved")


def run(args: argparse.Namespace) -> int:
    repo = Repository(args.repo)
    subprojects = load_subprojects(repo.root)
    if args.paths_from:
        if args.revisions:
            raise ToolError("give either a revision range or --paths-from, not both")
        changes, base, head = read_paths(repo.root, args.paths_from), repo.resolve("HEAD"), None
    else:
        base, head = parse_range(repo, args.revisions)
        changes = repo.changes(base, head or "HEAD")
        head = head or repo.resolve("HEAD")
    approvers = [a.strip() for a in args.approved_by.split(",") if a.strip()]
    approvals = required_approvals(repo, changes, subprojects, base, head, approvers)
    missing = [a for a in approvals if not a.approved_by]
    if args.format == "json":
        print(json.dumps(_as_json(approvals, base, head, approvers, missing), indent=2))
    else:
        _print_table(approvals, changes, bool(approvers or args.check))
    if args.check and missing:
        names = ", ".join(f"{a.team.name} (any of {', '.join(a.team.members)})" for a in missing)
        raise ToolError(f"missing approval from {len(missing)} team(s): {names}")
    return 0


def _as_json(
    approvals: list[Approval], base: str, head: str | None, approvers: list[str], missing: list[Approval]
) -> dict[str, Any]:
    return {
        "base": base,
        "head": head,
        "approved_by": approvers,
        "required": [
            {
                "team": a.team.name,
                "members": list(a.team.members),
                "subprojects": a.subprojects,
                "why": a.why,
                "approved_by": a.approved_by,
            }
            for a in approvals
        ],
        "missing": [a.team.name for a in missing],
    }


def _print_table(approvals: list[Approval], changes: list[Change], show_status: bool) -> None:
    if not approvals:
        print("no approvals needed (no changed paths)")
        return
    rows = [("team", "subprojects", "any of", *(("status",) if show_status else ()))]
    for a in approvals:
        status = ("approved by " + ", ".join(a.approved_by)) if a.approved_by else "MISSING"
        rows.append(
            (a.team.name, ", ".join(a.subprojects), ", ".join(a.team.members), *((status,) if show_status else ()))
        )
    print_table(rows)
    print(f"\n{len(approvals)} team(s) must each approve ({len(changes)} changed path(s)); why:")
    for a in approvals:
        for reason in a.why[:5]:
            print(f"  {a.team.name}: {reason}")
        if len(a.why) > 5:
            print(f"  {a.team.name}: ... and {len(a.why) - 5} more")
