"""review: the approvals a change needs, and (--check) whether it has them.

Every subproject the change touches needs one member of its team (see ``nova_split_tools.owners``:
drivers own their directories, the core team everything else), and all of those teams (AND across
subprojects). A change to the public driver API (``api_surface.is_api_file``) also needs the team
of every driver that uses a changed symbol, found by reading the drivers' imports.
Input is a revision range (default: merge base with main..HEAD) or ``--paths-from FILE`` (changes
in the work tree against HEAD). ``--check --approved-by alice,bob`` fails naming each team still
missing an approval: the CI gate that CODEOWNERS cannot express.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nova_split_tools.api_usage import (
    alias_map,
    changed_symbols,
    holders,
    is_api_surface,
    module_of,
    read_tree,
    scan_uses,
    users_of,
)
from nova_split_tools.errors import ToolError
from nova_split_tools.owners import Team, load_teams, owning_subproject
from nova_split_tools.plan_cmd import add_change_arguments, parse_range, read_paths
from nova_split_tools.repo import Change, Repository, tree_files
from nova_split_tools.subprojects import CORE, Subproject, load_subprojects

__all__ = ["Approval", "add_arguments", "required_approvals", "run"]


@dataclass
class Approval:
    """One team whose approval the change needs, and why."""

    team: Team
    subprojects: list[str] = field(default_factory=list)
    why: list[str] = field(default_factory=list)
    approved_by: list[str] = field(default_factory=list)


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


def required_approvals(
    repo: Repository,
    changes: list[Change],
    subprojects: list[Subproject],
    base: str,
    head: str | None,
    approvers: Sequence[str] = (),
) -> list[Approval]:
    """The teams ``base..head`` needs (``head`` None: the work tree), core team first."""
    teams = load_teams(repo.root, subprojects)
    by_team: dict[str, Approval] = {}

    def need(s: Subproject, reason: str) -> None:
        team = teams[s.name]
        approval = by_team.setdefault(team.name, Approval(team))
        if s.name not in approval.subprojects:
            approval.subprojects.append(s.name)
        if reason not in approval.why:
            approval.why.append(reason)

    surface: list[tuple[str, str | None]] = []  # (path in the new tree, path in the old tree)
    for c in changes:
        for path in filter(None, (c.path, c.old_path)):
            need(owning_subproject(path, subprojects), f"{path} changed")
        if is_api_surface(c.path) or (c.old_path and is_api_surface(c.old_path)):
            surface.append((c.path, c.old_path or c.path))
    if surface:
        core = next(s for s in subprojects if s.name == CORE)
        new_core = _files(repo, head, core.path)
        old_core = tree_files(repo, base, core.path)
        symbols: dict[str, str] = {}
        for new_path, old_path in surface:
            module = module_of(new_path, core.path)
            for sym in changed_symbols(module, old_core.get(old_path or ""), new_core.get(new_path)):
                symbols[sym] = new_path
        drivers = [s for s in subprojects if s.is_driver]
        driver_files: dict[str, str] = {}
        for d in drivers:
            driver_files.update(_files(repo, head, d.path))
        both = {**old_core, **new_core}
        aliases = alias_map(both, core.path)
        uses = scan_uses(driver_files)
        for sym, where in sorted(symbols.items()):
            via = {sym: ""} | {h: f", which holds {sym}" for h in holders(sym, both, aliases, core.path)}
            for name, files in sorted(users_of(via, uses, aliases).items()):
                for path, names in files.items():
                    driver = owning_subproject(path, subprojects)
                    need(driver, f"{path} uses {', '.join(names)}{via[name]} (changed in {where})")
    approvals = sorted(by_team.values(), key=lambda a: (a.team != teams[CORE], a.team.name))
    for a in approvals:
        a.approved_by = [p for p in approvers if p in a.team.members]
    return approvals


def _files(repo: Repository, rev: str | None, prefix: str) -> dict[str, str]:
    return read_tree(repo.root, prefix) if rev is None else tree_files(repo, rev, prefix)


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
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print(f"\n{len(approvals)} team(s) must each approve ({len(changes)} changed path(s)); why:")
    for a in approvals:
        for reason in a.why[:5]:
            print(f"  {a.team.name}: {reason}")
        if len(a.why) > 5:
            print(f"  {a.team.name}: ... and {len(a.why) - 5} more")
