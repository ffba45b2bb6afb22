"""The CI plan: for a change, which subprojects' CI runs, whether it votes, and why.

The plan is never wrong in the unsafe direction: whatever the graph cannot explain (build
configuration, CI definitions, a path no target owns) runs everything, with the reason.

Rules, in order, for each changed path (both sides of a rename; the old side of a deletion):

1. build configuration (``pants.toml``, ``./pants``, ``pyproject.toml``, ``.ci/``, the BUILD
   macros, the Pants plugin, the CI scripts): everything runs;
2. a resolve's lockfile: the subprojects in that resolve;
3. documentation (``*.md``, ``*.rst``, ``docs/``, ``LICENSE``): nothing runs;
4. a subproject's own build metadata (``BUILD``, ``subproject.toml``, ``requirements.txt``,
   ``bindep.txt``, the generated ``pyproject.toml`` and ``tox.ini``): that subproject runs
   (nova-common's reach every driver);
5. a file in the build graph: every subproject with a file that depends on it runs, with the
   chain of files as the reason; deleted files are looked up in the graph of the base revision;
6. anything else is owned by nothing: everything runs.

A driver's own changes always run and vote. A nova-common change that reaches a driver follows
the driver's ``[ci] core-changes`` policy. A change that touches only another driver never runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from nova_split_tools.graph import Graph
from nova_split_tools.repo import Change
from nova_split_tools.subprojects import CORE, CorePolicy, Subproject

__all__ = ["ROOT_FILES", "ROOT_PREFIXES", "Decision", "Plan", "compute_plan"]

ROOT_FILES = {"pants.toml", "pants.remote.toml", "pants", "pyproject.toml", "BUILD", ".gitignore"}
ROOT_PREFIXES = (".ci/", "build-support/macros/", "build-support/pants-plugins/", "build-support/bin/")
_DOC_SUFFIXES = {".md", ".rst"}
_METADATA = {"BUILD", "subproject.toml", "requirements.txt", "bindep.txt", "pyproject.toml", "tox.ini"}


@dataclass
class Decision:
    """What one subproject's CI does: ``run``, ``voting`` and the reasons."""

    run: bool = False
    voting: bool = False
    why: list[str] = field(default_factory=list)
    #: test files to run (empty with ``run`` means: all of the subproject's tests)
    tests: set[str] = field(default_factory=set)


@dataclass
class Plan:
    subprojects: dict[str, Decision]
    run_all: bool
    run_all_reasons: list[str]
    docs_only: bool

    def test_specs(self, by_name: dict[str, Subproject]) -> list[str]:
        """Pants specs for exactly the planned tests."""
        if self.run_all:
            return ["::"]
        specs: set[str] = set()
        for name, d in self.subprojects.items():
            if d.run:
                specs |= d.tests or {f"{by_name[name].path}::"}
        return sorted(specs)


def _is_root(path: str) -> bool:
    return path in ROOT_FILES or path.startswith(ROOT_PREFIXES)


def _is_doc(path: str) -> bool:
    p = PurePosixPath(path)
    return p.suffix in _DOC_SUFFIXES or p.name.startswith("LICENSE") or path.startswith("docs/")


def compute_plan(
    changes: Sequence[Change],
    subprojects: Sequence[Subproject],
    head_graph: Graph,
    base_graph: Callable[[], Graph],
) -> Plan:
    """Decide every subproject's CI for ``changes``. ``base_graph`` is called only if needed."""
    decisions = {s.name: Decision() for s in subprojects}
    owner_of = _owner_lookup(subprojects)
    run_all: list[str] = []
    docs: list[str] = []
    graph_paths: dict[str, list[str]] = {"head": [], "base": []}

    def own(s: Subproject, reason: str) -> None:
        decisions[s.name].why.append(reason)
        decisions[s.name].run = decisions[s.name].voting = True

    def core_reaches(s: Subproject, reason: str) -> None:
        d = decisions[s.name]
        d.why.append(reason if s.core_changes is CorePolicy.VOTE else f"{reason} [core-changes={s.core_changes.value}]")
        if s.core_changes is not CorePolicy.SKIP:
            d.run = True
        if s.core_changes is CorePolicy.VOTE:
            d.voting = True

    for change in changes:
        sides = (
            [("base", change.old_path), ("head", change.path)]
            if change.status == "R"
            else [("base" if change.status == "D" else "head", change.path)]
        )
        for side, path in sides:
            assert path is not None
            lock_owners = [s for s in subprojects if s.lockfile == path]
            sub = owner_of(path)
            if _is_root(path):
                run_all.append(f"{path}: build configuration affects every subproject")
            elif lock_owners:
                for s in lock_owners:
                    own(s, f"{path}: lockfile of resolve '{s.resolve}'")
            elif _is_doc(path):
                docs.append(path)
            elif sub is not None and PurePosixPath(path).name in _METADATA:
                own(sub, f"{path}: build metadata of {sub.name}")
                if sub.name == CORE:
                    for s in subprojects:
                        if s.is_driver:
                            core_reaches(s, f"{path}: nova-common's build metadata is in every resolve")
            else:
                graph_paths[side].append(path)

    for side in ("head", "base"):
        paths = graph_paths[side]
        if not paths:
            continue
        graph = head_graph if side == "head" else base_graph()
        unowned = [p for p in paths if p not in graph.owners]
        for p in unowned:
            run_all.append(
                f"{p}: owned by no target ({'deleted; ' if side == 'base' else ''}running everything to be safe)"
            )
        reached = graph.reach(p for p in paths if p in graph.owners)
        for path, chain in sorted(reached.items()):
            reached_sub = owner_of(path)
            if reached_sub is None:
                continue
            changed_sub = owner_of(chain[0])
            reason = " -> ".join(chain) + (" (deleted)" if side == "base" and len(chain) == 1 else "")
            if changed_sub is not None and changed_sub.name == CORE and reached_sub.is_driver:
                core_reaches(reached_sub, reason)
            else:
                own(reached_sub, reason)
            if graph.is_test(path) and side == "head":
                decisions[reached_sub.name].tests.add(path)

    for d in decisions.values():
        d.why = _dedupe_chains(d.why)
    if run_all:
        for d in decisions.values():
            d.run = d.voting = True
            d.tests.clear()
            d.why = [f"everything runs: {r}" for r in run_all] + d.why
    only_docs = bool(docs) and not run_all and not any(d.run for d in decisions.values())
    return Plan(decisions, bool(run_all), run_all, only_docs)


def _dedupe_chains(reasons: list[str]) -> list[str]:
    """Keep each reason once; of the chains from one changed file, keep the shortest three."""
    seen: dict[str, list[str]] = {}
    for r in reasons:
        head = r.split(" -> ")[0]
        bucket = seen.setdefault(head, [])
        if r not in bucket:
            bucket.append(r)
    out: list[str] = []
    for bucket in seen.values():
        out.extend(sorted(bucket, key=lambda r: (r.count(" -> "), r))[:3])
    return out


def _owner_lookup(subprojects: Sequence[Subproject]) -> Callable[[str], Subproject | None]:
    ordered = sorted(subprojects, key=lambda s: -len(s.path))

    def owner_of(path: str) -> Subproject | None:
        return next((s for s in ordered if s.owns(path)), None)

    return owner_of
