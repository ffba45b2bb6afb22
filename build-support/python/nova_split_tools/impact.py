"""The test-impact map as a plan uses it at one revision (:func:`impact_at`).

The map is committed (:data:`impact_map.MAP_PATH`); a plan reads the one of its base revision,
so a branch is planned with the recording of the main it left. A record holds only while nothing
a test depends on has changed since the recording: the changes from the recorded commit to the
base are planned as a change of their own, from the graph alone and with every policy voting (a
test a policy skips depends on the change all the same), and every test that plan would run is
stale (its record is not used). Where that plan runs everything (build configuration, a lockfile
a tool installs from), the map is not used at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from git import GitCommandError

from nova_split_tools.errors import ToolError
from nova_split_tools.graph import Graph
from nova_split_tools.impact_map import MAP_PATH, Impact, MapError, read_map, warn
from nova_split_tools.plan import compute_plan
from nova_split_tools.repo import Repository
from nova_split_tools.subprojects import CorePolicy, Subproject

__all__ = ["impact_at"]


def impact_at(
    repo: Repository,
    rev: str,
    graph: Graph,
    subprojects: Sequence[Subproject],
    tool_resolves: Mapping[str, Sequence[str]] | None = None,
) -> Impact | None:
    """The map committed at ``rev``, with the tests the changes since its recording reach marked
    stale; None (with one line on stderr saying why, unless there is no map) where it cannot be used.
    ``graph`` is the graph of ``rev`` or of a change on top of it."""
    try:
        text = str(repo.git.git.show(f"{repo.resolve(rev)}:{MAP_PATH}", stdout_as_string=True))
    except GitCommandError:
        return None  # no map at that revision: plans follow the graph, as they always did
    shown = rev[:12] if re.fullmatch(r"[0-9a-f]{40}", rev) else rev  # as git's short form
    try:
        imap = read_map(text, f"{MAP_PATH} at {shown}")
    except MapError as e:
        warn(str(e))
        return None
    try:
        recorded = repo.resolve(imap.commit)
        repo.git.git.merge_base("--is-ancestor", recorded, repo.resolve(rev))
    except (GitCommandError, ToolError):  # an unknown commit, or not an ancestor
        warn(f"{MAP_PATH} was recorded at {imap.commit[:12]}, which is not in the history of {shown}")
        return None
    # The map's own commit changes only the map: plans read it, tests do not run it.
    since = [c for c in repo.changes(recorded, rev) if MAP_PATH not in (c.path, c.old_path)]
    # every path votes here: a test a policy skips still depends on what changed
    voting = [replace(s, core_changes=CorePolicy.VOTE, api_changes=CorePolicy.VOTE) for s in subprojects]
    plan = compute_plan(since, voting, graph, lambda: graph, tool_resolves=tool_resolves)
    if plan.run_all:
        warn(f"{MAP_PATH}: since its recording at {imap.commit[:12]}, {plan.run_all_reasons[0]}")
        return None
    tests = {f for f in graph.owners if graph.is_test(f)}
    return Impact(imap, plan.planned_tests(tests, {s.name: s for s in subprojects}))
