"""Which teams must approve a change: its owners (``owners``) and the users of the API it changes.

Every subproject a change touches needs its team; a change to the driver API surface also needs
the team of every driver that uses a changed symbol (``api_usage``). The command is ``review_cmd``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

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
from nova_split_tools.owners import Team, load_teams, owning_subproject
from nova_split_tools.repo import Change, Repository, tree_files
from nova_split_tools.subprojects import CORE, Subproject

__all__ = ["Approval", "required_approvals"]


@dataclass
class Approval:
    """One team whose approval the change needs, and why."""

    team: Team
    subprojects: list[str] = field(default_factory=list)
    why: list[str] = field(default_factory=list)
    approved_by: list[str] = field(default_factory=list)


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
        # An approver is named by e-mail or GitHub handle; approved_by lists member e-mails.
        named = (a.team.member(p) for p in approvers)
        a.approved_by = list(dict.fromkeys(m for m in named if m))
    return approvals


def _files(repo: Repository, rev: str | None, prefix: str) -> dict[str, str]:
    return read_tree(repo.root, prefix) if rev is None else tree_files(repo, rev, prefix)
