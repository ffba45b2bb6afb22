"""Replay a change mix through the plan: expected driver CIs per commit against 2014's baseline.

A *mix* is categories of commits with shares (percent). For each category, ``commits`` synthetic
commits are built from real files of this repository (seeded), each is planned with
:func:`~nova_split_tools.plan.compute_plan`, and the drivers whose CI runs (and votes) are
counted. The expected cost of one commit is the share-weighted mean; 2014's baseline ran every
driver's CI on every commit (:data:`BASELINE` per commit), so the ratio is cost / baseline.

Categories (the files a commit of that kind changes):

- ``core-internal``: a nova-common module outside the driver API (``nova_common.compute``) and
  its test when it has one;
- ``driver-api``: a module of the driver API (the API gate's definition: ``driver.py``,
  ``objects/*``, ...) and its test;
- ``one-driver``: one driver's module and its test; the driver is drawn with ``driver_shares``;
- ``driver-and-core``: a ``one-driver`` commit plus a ``core-internal`` one;
- ``several-drivers``: one module of each of two different drivers;
- ``docs``: one documentation file.

:data:`NOVA_MIX` is nova's measured mix (7,235 commits of 2014-15 and 2024-26, issue 12).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from nova_split_tools.api_surface import is_api_file
from nova_split_tools.errors import ToolError
from nova_split_tools.graph import Graph
from nova_split_tools.plan import compute_plan
from nova_split_tools.repo import Change
from nova_split_tools.subprojects import CORE, Subproject

__all__ = [
    "BASELINE",
    "CATEGORIES",
    "NOVA_MIX",
    "CategoryResult",
    "parse_shares",
    "check_driver_shares",
    "replay",
    "scaling_note",
]

#: Driver CIs per commit in 2014: every commit ran all five drivers' CI.
BASELINE = 5
CATEGORIES = ("core-internal", "driver-api", "one-driver", "driver-and-core", "several-drivers", "docs")
NOVA_MIX: dict[str, float] = {
    "core-internal": 65.7,
    "driver-api": 3.0,
    "one-driver": 19.9,
    "driver-and-core": 4.9,
    "several-drivers": 2.4,
    "docs": 4.2,
}
#: Of the one-driver commits, libvirt's share; the other drivers share the rest equally.
NOVA_DRIVER_SHARES: dict[str, float] = {"libvirt": 60.0}


@dataclass
class CategoryResult:
    category: str
    share: float
    commits: int
    driver_cis: float  # mean drivers whose CI runs per commit of this category
    voting_cis: float  # mean drivers whose CI votes
    example: list[str]  # the changed files of the first sampled commit
    example_drivers: list[str]


def parse_shares(text: str, known: Sequence[str] | None, what: str, *, all_zero: bool = False) -> dict[str, float]:
    """``a=1.5,b=2`` as a dict; a name outside ``known`` or given twice, or a share that is not a
    number from 0 to 100, is refused; so are shares that are all 0, unless ``all_zero``."""
    shares: dict[str, float] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise ToolError(f"{what}: '{item}' is not NAME=SHARE (e.g. core-internal=65.7)")
        if known is not None and name not in known:
            raise ToolError(f"{what}: unknown name '{name}' (known: {', '.join(known)})")
        if name in shares:
            raise ToolError(f"{what}: '{name}' is given twice; give each name once")
        try:
            share = float(value)
        except ValueError:
            raise ToolError(f"{what}: share of '{name}' is not a number: '{value}'") from None
        if not math.isfinite(share) or share < 0:
            raise ToolError(f"{what}: share of '{name}' must be a number >= 0, not {value}")
        if share > 100:
            raise ToolError(f"{what}: share of '{name}' is {value}; shares are percentages, at most 100")
        shares[name] = share
    if not shares or (sum(shares.values()) <= 0 and not all_zero):
        raise ToolError(f"{what}: give at least one positive share")
    return shares


def check_driver_shares(shares: dict[str, float]) -> None:
    """One-driver shares are percentages of those commits: together at most 100 (the unnamed split the rest)."""
    given = sum(shares.values())
    if given > 100.5:  # (a rounded mix may add up to 100.1)
        raise ToolError(f"--driver-shares add up to {given:g}%, more than 100; give each driver's percentage")


def scaling_note(shares: dict[str, float], what: str) -> str | None:
    """The note to print when ``shares`` do not add up to 100% (they are scaled to it); None when they do."""
    total = sum(shares.values())
    if abs(total - 100) <= 0.5:  # (nova's rounded mix adds up to 100.1)
        return None
    return f"note: {what} adds up to {total:g}%; each share is scaled to its part of 100%"


class _Files:
    """The repository's files by category, from the build graph and the tracked files."""

    def __init__(self, graph: Graph, subprojects: Sequence[Subproject], tracked: Sequence[str]) -> None:
        sources = sorted(
            p
            for p, owners in graph.owners.items()
            if p.endswith(".py") and any(graph.types.get(t) == "python_source" for t in owners)
        )
        self.tests = {p for p in graph.owners if graph.is_test(p)}
        core = next(s for s in subprojects if s.name == CORE)
        core_sources = [p for p in sources if core.owns(p)]
        self.api = [p for p in core_sources if is_api_file(p)]
        self.internal = [p for p in core_sources if not is_api_file(p)]
        self.drivers = {s.name: [p for p in sources if s.owns(p)] for s in subprojects if s.is_driver}
        self.drivers = {name: files for name, files in self.drivers.items() if files}
        self.docs = sorted(p for p in tracked if p.endswith((".md", ".rst")) and not p.startswith("dist/"))
        for what, files in (("driver API modules", self.api), ("core-internal modules", self.internal)):
            if not files:
                raise ToolError(f"replay: nova-common has no {what} in the build graph")
        if not self.drivers:
            raise ToolError("replay: no driver has a module in the build graph")

    def with_test(self, path: str) -> list[str]:
        test = str(PurePosixPath(path).with_name(PurePosixPath(path).stem + "_test.py"))
        return [path, test] if test in self.tests else [path]


def _commit(category: str, files: _Files, rng: random.Random, pick_driver: Callable[[random.Random], str]) -> list[str]:
    if category == "core-internal":
        return files.with_test(rng.choice(files.internal))
    if category == "driver-api":
        return files.with_test(rng.choice(files.api))
    if category == "one-driver":
        return files.with_test(rng.choice(files.drivers[pick_driver(rng)]))
    if category == "driver-and-core":
        return _commit("one-driver", files, rng, pick_driver) + _commit("core-internal", files, rng, pick_driver)
    if category == "several-drivers":
        names = sorted(files.drivers)
        if len(names) < 2:
            return files.with_test(rng.choice(files.drivers[names[0]]))
        return [rng.choice(files.drivers[d]) for d in rng.sample(names, 2)]
    if category == "docs":
        if not files.docs:
            raise ToolError("replay: the repository has no documentation file for the 'docs' category")
        return [rng.choice(files.docs)]
    raise ToolError(f"replay: unknown category '{category}'")


def replay(
    graph: Graph,
    subprojects: Sequence[Subproject],
    tracked: Sequence[str],
    mix: dict[str, float],
    driver_shares: dict[str, float],
    *,
    commits: int,
    seed: int,
    tools: Mapping[str, Sequence[str]] | None = None,
) -> list[CategoryResult]:
    """Plan ``commits`` sampled commits per category of ``mix``; shares are normalised to 100.

    ``tools`` is :func:`subprojects.tool_resolves`, as the plan command passes it.
    """
    if commits < 1:
        raise ToolError("--commits must be at least 1")
    files = _Files(graph, subprojects, tracked)
    unknown = sorted(set(driver_shares) - set(files.drivers))
    if unknown:
        raise ToolError(f"--driver-shares: unknown driver '{unknown[0]}' (drivers: {', '.join(sorted(files.drivers))})")
    check_driver_shares(driver_shares)
    given = sum(driver_shares.values())
    rest = [d for d in sorted(files.drivers) if d not in driver_shares]
    weights = {d: driver_shares.get(d, max(0.0, 100.0 - given) / len(rest) if rest else 0.0) for d in files.drivers}
    if sum(weights.values()) <= 0:
        raise ToolError("--driver-shares: every driver has share 0")
    names = sorted(weights)

    def pick_driver(rng: random.Random) -> str:
        return rng.choices(names, weights=[weights[n] for n in names])[0]

    total = sum(mix.values())
    results = []
    for category, share in mix.items():
        rng = random.Random(f"{seed}:{category}")
        runs, votes = [], []
        example: list[str] = []
        example_drivers: list[str] = []
        for i in range(commits):
            changed = sorted(set(_commit(category, files, rng, pick_driver)))
            plan = compute_plan(
                [Change(p, "M") for p in changed], subprojects, graph, lambda: graph, tool_resolves=tools
            )
            drivers = [s for s in subprojects if s.is_driver]
            ran = [s.name for s in drivers if plan.subprojects[s.name].run]
            runs.append(len(ran))
            votes.append(sum(1 for s in drivers if plan.subprojects[s.name].voting))
            if i == 0:
                example, example_drivers = changed, ran
        results.append(
            CategoryResult(
                category,
                round(100 * share / total, 2),
                commits,
                statistics.fmean(runs),
                statistics.fmean(votes),
                example,
                example_drivers,
            )
        )
    return results
