"""The CI plan: for a change, which subprojects' CI runs, whether it votes, and why.

The plan is never wrong in the unsafe direction: whatever the graph cannot explain (build
configuration, CI definitions, a path no target owns) runs everything, with the reason.

Rules, in order, for each changed path (both sides of a rename; the old side of a deletion):

1. build configuration (``pants.toml``, ``./pants``, ``pyproject.toml``, a root ``BUILD``,
   ``.ci/``, the BUILD macros, the Pants plugin, the CI scripts): everything runs;
2. documentation (``*.md``, ``*.rst``, ``docs/``, ``LICENSE``): the tests that read the
   documentation run (:func:`docs_tests`: the tests that depend on a documentation file in the
   graph, such as the docs link test), and nothing else;
3. a subproject's own metadata (``subproject.toml``, ``bindep.txt``, the
   generated ``pyproject.toml`` and ``tox.ini``): all of that subproject's tests run (this
   survives being merged with file-level selections); nova-common's reaches every driver
   through the driver API path (it is the wheel they install);
4. a ``BUILD`` file below the root: the files its targets own are changed (rule 5);
5. a file in the build graph (sources, ``requirements.txt``, lockfiles), looked up in the graph
   of the head revision (of the base revision for a deleted file):

   a. if it changes a resolve's requirements or its lockfile (a ``python_requirement`` of that
      resolve depends on it), all tests of every subproject in that resolve run; if a tool
      installs from that resolve (``[pytest] install_from_resolve``, see
      :func:`subprojects.tool_resolves`), all tests of every subproject run (and b. does not
      apply: it would also reach nova-common's copies in a driver's resolve);
   b. every subproject with a file that depends on it runs, with the chain of files as the
      reason and the test files reached as the selection;
6. anything else is owned by nothing: everything runs.

A driver's own changes always run and vote; a change that touches only another driver never
runs it. A nova-common change reaches a driver on two paths, each with its own policy in the
driver's ``subproject.toml`` (``[ci]``, values ``vote``, ``advisory``, ``skip``):

* **driver API** (``api-changes``, default ``vote``): the change alters a unit of a nova-common
  module that the driver's code or tests refer to by name (:mod:`api_reach`; member-level for
  a modified Python module, whole-file otherwise), following the graph but not through the
  compute service;
* **end-to-end** (``core-changes``, default ``skip``): the change reaches the driver only through
  the compute service (``nova_common/compute``, its command-line plumbing ``nova_common_cli``, and what
  depends on them, such as ``nova_common.testing.cli``): the driver's end-to-end tests.

nova-common's own tests (the compute service with the fake driver, the conformance suite) always
run and vote on a nova-common change. The ``why`` of each reached driver names the path.

**Test impact.** With a recorded test-impact map (:mod:`impact_map`, ``impact``), a Python file
changed only inside function bodies reaches only the test files that executed one of those
functions when the map was recorded, besides every test the map does not trust (rule 5b, then the
paths above, apply to what is left). If no test executed them, nothing runs for that file, and its
subproject's ``why`` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Protocol

from nova_split_tools.api_reach import EVERYTHING, SUBCLASS, affected_units, changed_units, references
from nova_split_tools.graph import Graph
from nova_split_tools.impact_map import Narrowing
from nova_split_tools.repo import Change
from nova_split_tools.subprojects import CORE, CorePolicy, Subproject

__all__ = [
    "API",
    "CORE_METADATA",
    "END_TO_END",
    "OWN",
    "ROOT_FILES",
    "ROOT_PREFIXES",
    "Decision",
    "Narrower",
    "Plan",
    "Texts",
    "compute_plan",
    "covers",
    "docs_tests",
    "internal_files",
    "is_doc",
]

ROOT_FILES = {"pants.toml", "pants.remote.toml", "pants", "pyproject.toml", "BUILD", ".gitignore"}
ROOT_PREFIXES = (".ci/", "build-support/macros/", "build-support/pants-plugins/", "build-support/bin/")
_DOC_SUFFIXES = {".md", ".rst"}
#: A subproject's own metadata (rule 3); ``BUILD`` and ``requirements.txt`` go through the graph.
_METADATA = {"subproject.toml", "bindep.txt", "pyproject.toml", "tox.ini"}
CORE_METADATA = _METADATA
#: The core-internal code, which drivers' shipped code may not import (the visibility rules of
#: build-support/macros): the compute service (``api_surface.INTERNAL``) and the command-line
#: plumbing it shares with the tooling (a package of its own, outside the driver API's).
_INTERNAL_PREFIX = (f"{CORE}/nova_common/compute/", f"{CORE}/nova_common_cli/")

#: How a subproject was reached (``Decision.paths``, ``paths`` in ``plan --format json``).
OWN, API, END_TO_END = "own", "api", "end-to-end"

#: path -> (its text at the base revision, its text at the head); None where it does not exist.
Texts = Callable[[str], tuple["str | None", "str | None"]]


class Narrower(Protocol):
    """What narrows a Python change to the tests that executed it (:class:`impact_map.Impact`)."""

    def narrow(self, path: str, old: str | None, new: str | None) -> Narrowing | None:
        ...


@dataclass
class Decision:
    """What one subproject's CI does: ``run``, ``voting``, the reasons and the tests to run."""

    run: bool = False
    voting: bool = False
    why: list[str] = field(default_factory=list)
    #: test files to run (used only when ``all_tests`` is false and the set is not empty)
    tests: set[str] = field(default_factory=set)
    #: run all of the subproject's tests (a metadata or resolve change; survives file-level selections)
    all_tests: bool = False
    #: how it was reached: :data:`OWN`, :data:`API`, :data:`END_TO_END` (skipped paths included)
    paths: set[str] = field(default_factory=set)
    #: test files the change reached through a path whose policy is ``skip`` (not run for it, even
    #: where the subproject runs for another reason): what ``nova-split audit`` counts as skipped
    skipped_tests: set[str] = field(default_factory=set)
    #: every test of the subproject was reached through a ``skip`` path (nova-common's metadata)
    skipped_all: bool = False


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
                specs |= {f"{by_name[name].path}::"} if d.all_tests or not d.tests else d.tests
        return sorted(specs)

    def planned_tests(self, all_tests: Iterable[str], by_name: dict[str, Subproject]) -> set[str]:
        """The test files of ``all_tests`` that :meth:`test_specs` selects."""
        specs = self.test_specs(by_name)
        return {t for t in all_tests if any(covers(s, t) for s in specs)}


def covers(spec: str, test: str) -> bool:
    """Whether the test spec ``spec`` (a file, ``dir::`` or ``::``) selects the test file ``test``."""
    return spec == "::" or spec == test or (spec.endswith("::") and test.startswith(spec[:-2].rstrip("/") + "/"))


def _is_root(path: str) -> bool:
    return path in ROOT_FILES or path.startswith(ROOT_PREFIXES)


def is_doc(path: str) -> bool:
    """Whether ``path`` is documentation (rule 2): ``*.md``, ``*.rst``, ``LICENSE*``, ``docs/``."""
    # By the name's ending, not PurePosixPath.suffix (a file named ".md" has none), as
    # ci_zuul.DOC_REGEXES match it.
    p = PurePosixPath(path)
    return p.name.endswith(tuple(_DOC_SUFFIXES)) or p.name.startswith("LICENSE") or path.startswith("docs/")


def docs_tests(graph: Graph, changed: Iterable[str] | None = None) -> set[str]:
    """The tests that read the documentation when ``changed`` (documentation files) change; all
    documentation when it is None.

    Two kinds of tests read it. Those that read documents as documents (the docs link test) run
    for any change to documentation, a file no target owns included (a link to it may break).
    Those that build a wheel packing a document (a subproject's LICENSE, through its
    ``python_distribution``) run only when one of the documents they pack changes.
    """
    docs = [f for f in graph.owners if is_doc(f)]
    readers = {f for f in graph.reach(docs, through_packages=False) if graph.is_test(f)}
    packed = docs if changed is None else [f for f in changed if f in graph.owners]
    return readers | {f for f in graph.reach(packed) if graph.is_test(f)}


def internal_files(graph: Graph) -> set[str]:
    """nova-common's compute service and the nova-common files that depend on it (its test helpers)."""
    start = [f for f in graph.owners if f.startswith(_INTERNAL_PREFIX)]
    return {f for f in graph.reach(start) if f.startswith(CORE + "/")}


def compute_plan(
    changes: Sequence[Change],
    subprojects: Sequence[Subproject],
    head_graph: Graph,
    base_graph: Callable[[], Graph],
    *,
    tool_resolves: Mapping[str, Sequence[str]] | None = None,
    texts: Texts | None = None,
    impact: Narrower | None = None,
) -> Plan:
    """Decide every subproject's CI for ``changes``. ``base_graph`` is called only if needed.

    ``tool_resolves`` (:func:`subprojects.tool_resolves`) names the resolves tools install from;
    ``texts`` gives a file's two versions, for member-level reach through the driver API (without
    it, a nova-common change reaches drivers file by file, which is safe but coarser), and for
    ``impact``, the test-impact map at the base revision (:func:`impact.impact_at`).
    """
    decisions = {s.name: Decision() for s in subprojects}
    owner_of = _owner_lookup(subprojects)
    tools = dict(tool_resolves or {})
    run_all: list[str] = []
    docs: list[tuple[str, str]] = []  # (side, path): a deleted document is in the base graph only
    others = False  # a changed path that is not documentation
    graph_paths: dict[str, list[str]] = {"head": [], "base": []}
    declared_by: dict[str, str] = {}  # a file a changed BUILD file declares -> that BUILD file

    def own(s: Subproject, reason: str, *, all_tests: bool = False) -> None:
        d = decisions[s.name]
        d.why.append(reason)
        d.run = d.voting = True
        d.all_tests |= all_tests
        d.paths.add(OWN)

    def core_reaches(s: Subproject, reason: str, path: str, test: str | None = None, *, whole: bool = False) -> None:
        policy = s.api_changes if path == API else s.core_changes
        key = "api-changes" if path == API else "core-changes"
        d = decisions[s.name]
        d.paths.add(path)
        label = "driver API" if path == API else "end-to-end"
        note = (
            ""
            if policy is CorePolicy.VOTE
            else f", {key}={policy.value}" + (": not run" if policy is CorePolicy.SKIP else "")
        )
        d.why.append(f"{reason} [{label}{note}]")
        if policy is CorePolicy.SKIP:
            if test is not None:
                d.skipped_tests.add(test)
            d.skipped_all |= whole
            return
        d.run = True
        d.voting |= policy is CorePolicy.VOTE
        if test is not None:
            d.tests.add(test)

    for change in changes:
        sides = (
            [("base", change.old_path), ("head", change.path)]
            if change.status == "R"
            else [("base" if change.status == "D" else "head", change.path)]
        )
        for side, path in sides:
            assert path is not None
            sub = owner_of(path)
            name = PurePosixPath(path).name
            # Documentation first, wherever it lies (a README under build-support/bin too), as the
            # CI files' documentation filters (Zuul's irrelevant-files) see it.
            others |= not is_doc(path)
            if is_doc(path):
                docs.append((side, path))
            elif _is_root(path):
                run_all.append(f"{path}: build configuration affects every subproject")
            elif sub is not None and name in _METADATA and PurePosixPath(path).parent.as_posix() == sub.path:
                own(sub, f"{path}: build metadata of {sub.name} (all its tests)", all_tests=True)
                if sub.name == CORE:
                    for s in subprojects:
                        if s.is_driver:
                            core_reaches(
                                s, f"{path}: nova-common's metadata (the wheel every driver installs)", API, whole=True
                            )
                            decisions[s.name].all_tests |= decisions[s.name].run
            elif name == "BUILD":
                directory = PurePosixPath(path).parent.as_posix()
                graph = head_graph if side == "head" else base_graph()
                declared = graph.declared_in(directory)
                if not declared and sub is not None:
                    own(sub, f"{path}: declares no target the graph knows (all of {sub.name}'s tests)", all_tests=True)
                elif not declared:
                    run_all.append(f"{path}: declares no target the graph knows (running everything to be safe)")
                for f in sorted(declared):
                    declared_by.setdefault(f, path)
                    graph_paths[side].append(f)
            else:
                graph_paths[side].append(path)

    for side in ("head", "base"):
        paths = sorted(set(graph_paths[side]))
        if not paths:
            continue
        graph = head_graph if side == "head" else base_graph()
        for p in paths:
            if p in graph.owners:
                continue
            deleted = "deleted; " if side == "base" else ""
            if (sub := owner_of(p)) is not None:
                # No test's sandbox holds it, so only tooling that reads the subproject's directory
                # (release notes, closure data, wheel checks) can depend on it: its own tests.
                own(sub, f"{p}: owned by no target ({deleted}all of {sub.name}'s tests)", all_tests=True)
            else:
                run_all.append(f"{p}: owned by no target ({deleted}running everything to be safe)")
        owned = [p for p in paths if p in graph.owners]

        def label(p: str) -> str:
            return f"{declared_by[p]} -> {p}" if p in declared_by else p

        for resolve, via in sorted(graph.resolves_reached(owned).items()):
            users = tools.get(resolve, [])
            for s in subprojects:
                if users:
                    own(
                        s,
                        f"{label(via)}: changes resolve '{resolve}', from which {', '.join(users)} install: "
                        "every subproject runs them (all tests)",
                        all_tests=True,
                    )
                elif s.resolve == resolve:
                    own(s, f"{label(via)}: changes resolve '{resolve}' (all tests of its subprojects)", all_tests=True)

        internal = internal_files(graph)
        # A requirements file or lockfile is covered by the resolve rule above; following it file by
        # file would also reach nova-common's copies in a driver's resolve, which only that driver runs.
        resolve_files = {p for p in owned if graph.resolves_reached([p])}
        for p in (p for p in owned if p not in resolve_files):
            changed_sub = owner_of(p)
            reached = graph.reach([p])
            narrowing = (
                impact.narrow(p, *texts(p))
                if impact is not None
                and texts is not None
                and side == "head"
                and p.endswith(".py")
                and p not in declared_by
                and change_status(changes, p) == "M"
                else None
            )
            api: dict[str, str] = {}
            # dependent -> its chain through the compute service (the end-to-end path's reason)
            via_internal: dict[str, tuple[str, ...]] = {}
            if changed_sub is not None and changed_sub.name == CORE:
                # a file a changed BUILD file declares changed as a whole (its target did)
                status = "B" if p in declared_by else change_status(changes, p)
                api = _api_reach(graph, p, internal, owner_of, texts if side == "head" else None, status)
                # through the compute service itself where it can, else through a helper using it
                for starts in (
                    [f for f in reached if f.startswith(_INTERNAL_PREFIX)],
                    [f for f in reached if f in internal],
                ):
                    for f, chain in graph.reach(starts).items():
                        via_internal.setdefault(f, (*reached[chain[0]], *chain[1:]))
            if narrowing is not None:
                before = reached
                reached = _narrowed(reached, graph, narrowing.keep, changed=p)
                for name, note in _narrowing_notes(p, narrowing, before, reached, graph, owner_of, changed_sub):
                    decisions[name].why.append(note)
            for path, chain in sorted(reached.items()):
                reached_sub = owner_of(path)
                if reached_sub is None:
                    continue
                reason = (label(p) + (" -> " + " -> ".join(chain[1:]) if len(chain) > 1 else "")) + (
                    " (deleted)" if side == "base" and len(chain) == 1 else ""
                )
                test = path if graph.is_test(path) and (side == "head" or head_graph.is_test(path)) else None
                if changed_sub is not None and changed_sub.name == CORE and reached_sub.is_driver:
                    if path in api:
                        core_reaches(reached_sub, label(p) + api[path], API, test)
                    if path in via_internal:
                        e2e = via_internal[path]
                        core_reaches(reached_sub, label(p) + " -> " + " -> ".join(e2e[1:]), END_TO_END, test)
                    # else: it depends on the file, but uses nothing that changed (no path)
                else:
                    own(reached_sub, reason)
                    if test is not None:
                        decisions[reached_sub.name].tests.add(test)
                    elif side == "base" and graph.is_test(path):
                        decisions[reached_sub.name].all_tests = True  # a deleted test's dependents

    for d in decisions.values():
        d.why = _dedupe_chains(d.why)
    if run_all:
        for d in decisions.values():
            d.run = d.voting = d.all_tests = True
            d.tests.clear()
            d.why = [f"everything runs: {r}" for r in run_all] + d.why
    if docs and not run_all:
        # Documentation is read by its tests only (the docs link test); nothing else runs for it.
        for side, path in sorted(set(docs)):
            # A deleted document the wheel packed (a LICENSE) is known to the base graph only:
            # the tests that build that wheel must see it gone.
            readers = docs_tests(head_graph, [path])
            if side == "base":
                readers |= {t for t in docs_tests(base_graph(), [path]) if head_graph.is_test(t)}
            for test in sorted(readers):
                if (sub := owner_of(test)) is not None:
                    own(sub, f"{path}: documentation, read by {test}")
                    decisions[sub.name].tests.add(test)
    only_docs = bool(docs) and not run_all and not others
    return Plan(decisions, bool(run_all), run_all, only_docs)


def _narrowed(
    reached: dict[str, tuple[str, ...]], graph: Graph, keep: Callable[[str], bool], *, changed: str
) -> dict[str, tuple[str, ...]]:
    """``reached`` with only the test files ``keep`` keeps (a ``changed`` test file always): once
    narrowed, the plan follows the tests alone (a reached source file would run all of its
    subproject's tests)."""
    return {t: chain for t, chain in reached.items() if graph.is_test(t) and (t == changed or keep(t))}


def _narrowing_notes(
    path: str,
    narrowing: Narrowing,
    before: Mapping[str, tuple[str, ...]],
    after: Mapping[str, tuple[str, ...]],
    graph: Graph,
    owner_of: Callable[[str], Subproject | None],
    changed_sub: Subproject | None,
) -> list[tuple[str, str]]:
    """(subproject, why) for the changed file's subproject and every subproject whose reached
    test files the map narrowed: how many it keeps, how many of those executed the change, and
    how many it keeps only because it cannot vouch for them (untrusted, stale, or not seen
    importing the file)."""
    functions = ", ".join(sorted(narrowing.functions)[:3]) + (", ..." if len(narrowing.functions) > 3 else "")
    by_sub: dict[str, list[str]] = {}
    for t in before:
        if graph.is_test(t) and (s := owner_of(t)) is not None:
            by_sub.setdefault(s.name, []).append(t)
    if changed_sub is not None:
        by_sub.setdefault(changed_sub.name, [])
    notes = []
    for name, tests in sorted(by_sub.items()):
        kept = [t for t in tests if t in after]
        if len(kept) == len(tests) and (changed_sub is None or name != changed_sub.name):
            continue  # not narrowed here: the graph's reasons say it all
        ran = sum(t in narrowing.executing for t in kept)
        unvouched = sum(t not in narrowing.executing and t != path for t in kept)
        note = (
            f"{path}: changed only inside {functions}; the test-impact map ({narrowing.commit[:12]}) "
            f"keeps {len(kept)} of {len(tests)} reached test file(s): {ran} executed it"
            + (f", {unvouched} it cannot vouch for (untrusted, stale or not recorded)" if unvouched else "")
            + ("" if kept else ": no test runs for it here")
        )
        notes.append((name, note))
    return notes


def change_status(changes: Sequence[Change], path: str) -> str:
    """The status of ``path`` among ``changes`` (``?`` if it is not among them)."""
    return next((c.status for c in changes if c.path == path), "?")


def _api_reach(
    graph: Graph,
    changed: str,
    internal: set[str],
    owner_of: Callable[[str], Subproject | None],
    texts: Texts | None,
    status: str,
) -> dict[str, str]:
    """Driver file -> the rest of its reason (`` [members] -> chain``), on the driver API path.

    Starts from the units of ``changed`` that differ (:func:`api_reach.changed_units`) and follows
    the graph's dependents outside the compute service: a nova-common file passes on the units of
    its own that refer to them, a driver file that refers to one is reached (with every file that
    depends on it), one that refers to none passes them on. Whatever cannot be narrowed (no
    ``texts``, a new, deleted or unparsable file) reaches every dependent outside the compute service.
    """
    if changed in internal:
        return {}
    idents: frozenset[str] | None = None
    if texts is not None and status == "M" and changed.endswith(".py"):
        old, new = texts(changed)
        idents = changed_units(old, new)
    if idents is None:
        return {
            f: (" -> " + " -> ".join(chain[1:]) if len(chain) > 1 else "")
            for f, chain in graph.reach([changed], avoid=internal).items()
            if (s := owner_of(f)) is not None and s.is_driver
        }
    assert texts is not None
    spelled = sorted(i for i in idents if not i.startswith(SUBCLASS))
    shown = ", ".join(spelled[:4]) + (", ..." if len(spelled) > 4 else "")
    out: dict[str, str] = {}
    carried: dict[str, frozenset[str]] = {changed: idents}
    chains: dict[str, tuple[str, ...]] = {changed: (changed,)}
    queue = [changed]
    while queue:
        current = queue.pop(0)
        names = carried[current]
        for dep in sorted(graph.dependent_files(current)):
            if dep in internal or dep in out:
                continue
            sub = owner_of(dep)
            chain = (*chains[current], dep)
            if sub is not None and sub.is_driver:
                refs = references(texts(dep)[1])
                if refs is EVERYTHING or refs & names:
                    for f, rest in graph.reach([dep]).items():
                        full = (*chain, *rest[1:])
                        out.setdefault(f, f" [{shown}] -> " + " -> ".join(full[1:]))
                    continue
                more = names
            elif sub is not None and sub.name == CORE:
                aff = affected_units(texts(dep)[1], names)
                if aff is None:  # cannot narrow it: everything outside the compute service beyond it
                    for f, rest in graph.reach([dep], avoid=internal).items():
                        if (s := owner_of(f)) is not None and s.is_driver:
                            out.setdefault(f, f" [{shown}] -> " + " -> ".join((*chain, *rest[1:])[1:]))
                    continue
                more = names | aff
            else:
                continue
            if carried.get(dep, frozenset()) >= more:
                continue
            carried[dep] = carried.get(dep, frozenset()) | more
            chains.setdefault(dep, chain)
            queue.append(dep)
    return out


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
