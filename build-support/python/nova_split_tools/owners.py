"""Who owns what: each subproject's core team, declared in its own ``subproject.toml``::

    [owners]
    team = "xen-core"
    members = ["bobball", "huanxie"]

A driver's team owns its directory and nothing else. nova-common's team is the core team: it owns
nova-common, the tooling and every path outside ``drivers/`` (the root). A person may be in
several teams; no team approves another team's subproject.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from nova_split_tools.errors import ToolError
from nova_split_tools.subprojects import CORE, Subproject

__all__ = ["Team", "load_teams", "owning_subproject"]


@dataclass(frozen=True)
class Team:
    """A subproject's core team: any one member approves for the team."""

    name: str
    members: tuple[str, ...]


def load_teams(root: Path, subprojects: list[Subproject]) -> dict[str, Team]:
    """Subproject name -> its team. The tooling (``build-support``) belongs to the core team."""
    teams: dict[str, Team] = {}
    for s in subprojects:
        if s.name == CORE or s.is_driver:
            teams[s.name] = _read_team(root / s.path / "subproject.toml")
    for s in subprojects:
        teams.setdefault(s.name, teams[CORE])
    return teams


def owning_subproject(path: str, subprojects: list[Subproject]) -> Subproject:
    """The driver whose directory holds ``path``; nova-common (the core) for everything else."""
    for s in subprojects:
        if s.is_driver and s.owns(path):
            return s
    return next(s for s in subprojects if s.name == CORE)


def _read_team(metadata: Path) -> Team:
    fix = f'add an [owners] section to {metadata} with team = "<name>" and members = ["<user>", ...]'
    try:
        owners = tomllib.loads(metadata.read_text()).get("owners")
    except FileNotFoundError:
        raise ToolError(f"{metadata} is missing; every subproject needs one") from None
    except tomllib.TOMLDecodeError as e:
        raise ToolError(f"{metadata}: {e}") from None
    if not isinstance(owners, dict):
        raise ToolError(f"{metadata} declares no owners; {fix}")
    team, members = owners.get("team"), owners.get("members")
    if not isinstance(team, str) or not team:
        raise ToolError(f"{metadata}: [owners] team must be a non-empty string; {fix}")
    if not isinstance(members, list) or not members or not all(isinstance(m, str) and m for m in members):
        raise ToolError(f"{metadata}: [owners] members must be a non-empty list of user names; {fix}")
    return Team(team, tuple(members))
