"""The audit's engine: mutate one file at a time, run the plan and the full suite, classify.

For each mutation (a behavioural edit of one non-test Python module of nova-common or a driver,
see :mod:`~nova_split_tools.mutations`, or an edit of a non-Python input, see
:mod:`~nova_split_tools.input_mutations`), in one scratch worktree of HEAD: commit the mutation,
compute the plan of that commit, run ``pants test ::`` (Pants' cache re-runs only the tests whose
inputs changed), classify, and reset to HEAD. A baseline run first records the tests that fail
without any mutation (they are not counted) and warms the cache.

Classification of one mutation (:func:`classify`):

- ``planned``: the test files the plan runs; ``skipped``: the test files a subproject's policy
  left out for the path that reached them (``skipped_tests``; all of its tests where nova-common's
  metadata reached it, ``skipped_all``), whether or not it runs for another path;
- a *miss* is a failing test file neither planned nor skipped by policy (must be 0);
- an *uncaught skip* is a failing test file skipped by policy while no planned test failed
  (must be 0: nova-common's own tests must catch what the skipped driver would have caught);
- a *survivor* is a mutation no test notices;
- an *unplanned re-run* is a test Pants re-ran (its inputs changed) outside the plan: for inputs
  like a valid lockfile refresh, where nothing fails, it is the hole that would otherwise hide;
- *precision*: planned test files per failing test file, over the caught mutations.

A BUILD file or a ``requirements.txt`` can change the graph itself (which targets own a file,
what they depend on): their plan reads the graph of the mutated tree, as CI's plan job reads the
graph of the change (:func:`shapes_graph`). A graph no ``pants peek`` can read stops CI at its
plan job before any test runs: caught, with every test counted as planned and none run.

When Pants cannot run the suite at all (a corrupted lockfile, a requirement dropped that an
import needs: an error, no per-test results), :func:`settle_error` runs the planned tests alone
and then the rest, by subproject where the rest errors too, so an error outside the plan is a
miss like a failing test outside it; an error in the planned run and in every share of the rest
(no Pants run of any test gets through, the plan's included) is caught by the plan.
"""

from __future__ import annotations

import contextlib
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from nova_common_cli.args import Terminated, terminate_as_exception
from nova_common_cli.progress import Progress
from nova_split_tools.audit_journal import MutationKey, open_journal
from nova_split_tools.errors import ToolError
from nova_split_tools.graph import Graph, load_graph
from nova_split_tools.impact import impact_at
from nova_split_tools.input_mutations import NEUTRAL_OPERATORS, input_mutations
from nova_split_tools.mutations import apply, choose
from nova_split_tools.plan import Narrower, Texts, compute_plan, covers
from nova_split_tools.proc import completed, git
from nova_split_tools.repo import Repository, worktree
from nova_split_tools.subprojects import Subproject, load_subprojects, tool_resolves

__all__ = [
    "KINDS",
    "Mutant",
    "Outcome",
    "RunResult",
    "audit",
    "classify",
    "covers",
    "input_files",
    "parse_test_run",
    "settle_error",
    "shapes_graph",
    "source_files",
]

KINDS = ("python", "inputs")
_RESULT = re.compile(r"^([✓✕]) (\S+?)(?::\S*)? (succeeded|failed)(.*)$")
_IDENT = {"GIT_AUTHOR_NAME": "nova-split audit", "GIT_AUTHOR_EMAIL": "audit@nova-split.invalid"}
_IDENT |= {"GIT_COMMITTER_NAME": "nova-split audit", "GIT_COMMITTER_EMAIL": "audit@nova-split.invalid"}


@dataclass(frozen=True)
class Mutant:
    """One mutation: ``path`` becomes ``text``."""

    kind: str
    path: str
    operator: str
    description: str
    text: str = field(repr=False)


@dataclass
class RunResult:
    """What one ``pants test`` run said: failing test files, re-run (not cached) ones, an error."""

    failed: set[str]
    rerun: set[str]
    error: str | None = None


#: Runs ``pants test`` on the given specs in a tree (``("::",)``: the whole suite).
Runner = Callable[[Path, Sequence[str]], RunResult]


@dataclass
class Outcome:
    path: str
    kind: str
    operator: str
    description: str
    outcome: str  # caught | survived | MISS | UNCAUGHT-SKIP (pants-error: in journals of earlier versions)
    planned: int
    failed: list[str]
    misses: list[str]
    uncaught_skips: list[str]
    unplanned_reruns: list[str]
    error: str | None = None
    seconds: float = 0.0


def source_files(graph: Graph) -> list[str]:
    """Non-test Python sources of nova-common and the drivers."""
    return sorted(
        path
        for path, owners in graph.owners.items()
        if path.endswith(".py")
        and path.startswith(("nova-common/", "drivers/"))
        and any(graph.types.get(t) == "python_source" for t in owners)
    )


def input_files(tracked: Iterable[str]) -> list[str]:
    """The non-Python inputs the audit edits: pants.toml and, in nova-common and the drivers,
    lockfiles, requirements, BUILD files, subproject.toml, system package lists, Go sources."""
    names = {"requirements.txt", "BUILD", "subproject.toml", "system-deps", "bindep.txt"}
    return sorted(
        p
        for p in tracked
        if p == "pants.toml"
        or (
            p.startswith(("nova-common/", "drivers/"))
            and (p.rsplit("/", 1)[-1] in names or p.endswith((".lock", ".go")))
        )
    )


def parse_test_run(returncode: int, output: str) -> RunResult:
    """The failing and re-run test files of a ``pants test`` run; an error if Pants ran no test."""
    failed: set[str] = set()
    rerun: set[str] = set()
    seen = False
    for line in output.splitlines():
        m = _RESULT.match(line.strip())
        if not m:
            continue
        seen = True
        mark, path, _, rest = m.groups()
        if mark == "✕":
            failed.add(path)
        if "cached" not in rest and "memoized" not in rest:
            rerun.add(path)
    error = None
    if returncode != 0 and not seen:
        lines = [x.strip() for x in output.splitlines() if x.strip()]
        error = next((x for x in lines if "Error" in x or "error" in x), lines[-1] if lines else "no output")
        error = error[:200]
    return RunResult(failed, rerun, error)


def classify(
    planned: set[str],
    skipped: set[str],
    run: RunResult,
    baseline_failed: frozenset[str] | set[str] = frozenset(),
    *,
    neutral: bool = False,
) -> tuple[str, list[str], list[str], list[str]]:
    """(outcome, misses, uncaught skips, unplanned re-runs) of one mutation; see the module doc.

    For a ``neutral`` edit (:data:`~nova_split_tools.input_mutations.NEUTRAL_OPERATORS`) a test
    Pants re-ran outside the plan is a miss too: its inputs changed and the plan did not run it
    (a lockfile refresh the plan does not follow), which is what such an edit is there to show.
    """
    failing = run.failed - baseline_failed
    misses = sorted(failing - planned - skipped)
    skipped_failing = (failing & skipped) - planned
    # An error of the planned run (settle_error) is a red plan: the break cannot land unseen.
    plan_caught = bool(failing & planned) or run.error is not None
    uncaught = sorted(skipped_failing) if skipped_failing and not plan_caught else []
    unplanned = sorted(run.rerun - planned - skipped - baseline_failed)
    if neutral:
        misses = sorted(set(misses) | set(unplanned))
    if misses:
        outcome = "MISS"
    elif uncaught:
        outcome = "UNCAUGHT-SKIP"
    elif failing or run.error is not None:
        outcome = "caught"
    else:
        outcome = "survived"
    return outcome, misses, uncaught, unplanned


def settle_error(
    tree: Path, runner: Runner, planned: set[str], all_tests: set[str], subprojects: Sequence[Subproject]
) -> RunResult:
    """What a mutation breaks when Pants cannot run the whole suite (``error`` set, no results).

    The planned tests run alone; the result's ``error`` is theirs (None when they ran). The other
    tests then run together, and if they error too, each subproject's share of them runs alone:
    every test of a share that errors counts as failing (the plan would not have shown it). Only
    when the planned run errored and every share errored as well is the error one no Pants run
    of any test gets through (a BUILD file nothing can be read past): the plan shows it, and it
    adds nothing outside the plan. Errors are not compared by their text: one lockfile's download
    error reads like another's.
    """
    inside = runner(tree, sorted(planned)) if planned else RunResult(set(), set())
    failed, rerun = set(inside.failed), set(inside.rerun)
    others = all_tests - planned
    if others:
        outside = runner(tree, sorted(others))
        if outside.error is None:
            failed |= outside.failed
            rerun |= outside.rerun
        else:
            broken: set[str] = set()
            for share in _shares(others, subprojects):
                run = runner(tree, sorted(share))
                if run.error is not None:
                    broken |= share
                failed |= run.failed
                rerun |= run.rerun
            if inside.error is None or broken != others:
                failed |= broken
    return RunResult(failed, rerun, inside.error)


def _shares(tests: set[str], subprojects: Sequence[Subproject]) -> list[set[str]]:
    """``tests`` split by the subproject that owns each (one share for the unowned ones)."""
    shares: dict[str, set[str]] = {}
    for test in tests:
        owner = next((s.name for s in subprojects if s.owns(test)), "")
        shares.setdefault(owner, set()).add(test)
    return [shares[k] for k in sorted(shares)]


def planned_and_skipped(
    path: str,
    subprojects: list[Subproject],
    graph: Graph,
    all_tests: set[str],
    *,
    tool_resolves: Mapping[str, Sequence[str]] | None = None,
    texts: Texts | None = None,
    base: Graph | None = None,
    impact: Narrower | None = None,
) -> tuple[set[str], set[str]]:
    """The test files the plan of a one-file change to ``path`` runs, and those its policies skip.

    ``graph`` is the graph of the changed tree (``base``, the one before the change, defaults to
    it). ``tool_resolves`` and ``texts`` (any file's text before and after) are what
    ``nova-split plan`` gives the plan: the resolves tools install from, and the two versions
    for member-level reach; ``impact`` is the test-impact map at HEAD (:func:`impact.impact_at`).
    """
    from nova_split_tools.repo import Change

    plan = compute_plan(
        [Change(path, "M")],
        subprojects,
        graph,
        lambda: base if base is not None else graph,
        tool_resolves=tool_resolves,
        texts=texts,
        impact=impact,
    )
    by_name = {s.name: s for s in subprojects}
    planned = plan.planned_tests(all_tests, by_name)
    skipped: set[str] = set()
    for name, decision in plan.subprojects.items():
        # Only the tests a skip policy left out for the path that reached them: a driver reached
        # end to end only (its policy skips that) has its end-to-end tests skipped, and a failing
        # unit test of it is a miss (the driver API reach left it out), not a policy skip.
        if getattr(decision, "skipped_all", False) and name in by_name:
            skipped |= {t for t in all_tests if by_name[name].owns(t)}
        skipped |= set(getattr(decision, "skipped_tests", ())) & all_tests
    return planned, skipped - planned


#: Inputs whose edit can change the build graph (targets, their sources and dependencies): their
#: plan reads the graph of the mutated tree, as CI's plan job reads the graph of the change.
_GRAPH_INPUTS = frozenset({"BUILD", "requirements.txt"})


def shapes_graph(m: Mutant) -> bool:
    """Whether the plan of ``m`` needs the graph of the mutated tree (not the one of HEAD)."""
    return m.kind == "inputs" and PurePosixPath(m.path).name in _GRAPH_INPUTS


def _texts(tree: Path, mutant: Mutant, originals: dict[str, str]) -> Texts:
    """Each file's two versions for the plan of ``mutant``: only the mutated file differs."""

    def versions(path: str) -> tuple[str | None, str | None]:
        if path == mutant.path:
            return originals[path], mutant.text
        try:
            text: str | None = (tree / path).read_text()
        except (OSError, UnicodeDecodeError):
            text = None
        return text, text

    return versions


def mutants(tree: Path, graph: Graph, kinds: Iterable[str], seed: int) -> list[Mutant]:
    """One behavioural mutation per Python source (chosen with ``seed``) and every input mutation."""
    found: list[Mutant] = []
    kinds = set(kinds)
    if "python" in kinds:
        for path in source_files(graph):
            source = (tree / path).read_text()
            site = choose(source, random.Random(f"{seed}:{path}"))
            if site is not None:
                found.append(Mutant("python", path, site.operator, site.description, apply(source, site)))
    if "inputs" in kinds:
        tracked = git(tree, "ls-files").splitlines()
        for m in input_mutations(tree, input_files(tracked)):
            text = m.edit((tree / m.path).read_text())
            found.append(Mutant("inputs", m.path, m.operator, m.description, text))
    return found


# The repository's self-tests (tag ``integration``) are left out: they test the tooling, not
# nova-common or a driver, each clones the repository and runs Pants in it, and their cache key holds
# the build root and HEAD, so every mutation commit would re-run all of them (tens of minutes).
# A mutation can make a loop endless: pants.toml's [test] timeout_default fails a test file that
# runs past it (Pants reports it as failed), so the audit goes on and the hang counts like any
# failing test. (Set there, not here: an option here would change every test's cache key, and
# the audit's baseline would not be the cache hits of CI's `pants test ::`.)
SUITE_ARGS = ("--no-pantsd", "--tag=-integration", "test", "::")


def _pants_test(tree: Path, specs: Sequence[str] = ("::",)) -> RunResult:
    # (proc.completed: an interrupt as Pants starts still stops it, and it dies with a killed audit)
    proc = completed(
        [str(tree / "pants"), *SUITE_ARGS[:-1], *specs], cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    return parse_test_run(proc.returncode, proc.stdout.decode(errors="replace"))


def audit(
    root: Path,
    *,
    sample: int | None,
    seed: int,
    kinds: Iterable[str] = KINDS,
    paths: list[str] | None = None,
    progress: Progress | None = None,
    runner: Runner = _pants_test,
    journal: Path | None = None,
    use_impact: bool = True,
) -> tuple[list[Outcome], list[str]]:
    """Audit every mutation (or a seeded ``sample``) in a worktree of HEAD: (outcomes, baseline failures).

    One line per phase and per mutation goes to stderr either way (through ``progress.echo``);
    ``progress`` (optional, silent by default) also counts the baseline run and the mutations
    and names the one running, for a status line with an ETA on a terminal. With ``journal``
    (:mod:`~nova_split_tools.audit_journal`) each outcome is recorded as it is found, and the
    mutations an earlier run of this commit and seed recorded there are taken, not run again.
    Interrupted, the exception carries a note saying how far it got and how to go on.
    """
    if sample is not None and sample < 1:
        raise ToolError("--sample must be at least 1")
    repo = Repository(root)
    # SIGTERM and SIGHUP unwind like Ctrl-C (raised as Terminated): the running Pants is killed
    # and the scratch worktree removed.
    with terminate_as_exception(hangup=True):
        return _audit_in_worktree(
            repo, sample, seed, kinds, paths, progress or Progress("audit", show=False), runner, journal, use_impact
        )


def _audit_in_worktree(
    repo: Repository,
    sample: int | None,
    seed: int,
    kinds: Iterable[str],
    paths: list[str] | None,
    progress: Progress,
    runner: Runner,
    journal_path: Path | None,
    use_impact: bool,
) -> tuple[list[Outcome], list[str]]:
    commit = git(repo.root, "rev-parse", "HEAD").strip()
    journal = open_journal(journal_path, commit, seed) if journal_path is not None else None
    with (
        contextlib.closing(journal) if journal is not None else contextlib.nullcontext(),
        tempfile.TemporaryDirectory(prefix="nova-split-audit-") as tmp,
        worktree(repo.root, commit, Path(tmp) / "tree") as tree,
    ):

        def log(line: str) -> None:
            progress.echo(f"audit: {line}", sys.stderr)

        progress.status("reading the build graph")
        log("reading the build graph")
        graph = load_graph(tree, pantsd=False)
        subprojects = load_subprojects(tree)
        all_tests = {p for p in graph.owners if graph.is_test(p)}
        found = mutants(tree, graph, kinds, seed)
        if paths:
            unknown = [p for p in paths if not any(m.path == p for m in found)]
            if unknown:
                raise ToolError(f"no mutation applies to {', '.join(unknown)} (give non-test sources or inputs)")
            found = [m for m in found if m.path in paths]
        if sample is not None:
            found = random.Random(seed).sample(found, min(sample, len(found)))
            found.sort(key=lambda m: (m.kind, m.path))
        tools = tool_resolves(tree)
        # the plan as `nova-split plan` makes it: with the test-impact map committed at HEAD
        impact = impact_at(repo, commit, graph, subprojects, tools) if use_impact else None
        originals = {m.path: (tree / m.path).read_text() for m in found if m.path.endswith(".py")}
        recorded = journal.recorded if journal is not None else {}
        pending = [m for m in found if _key(m) not in recorded]
        progress.total = len(pending) + 1  # the baseline run counts as one step
        progress.status("baseline run of the full suite")
        taken = f", {len(found) - len(pending)} recorded in {journal_path}" if len(pending) < len(found) else ""
        log(f"{len(found)} mutation(s){taken}; baseline run of the full suite (warms Pants' cache)")
        outcomes: list[Outcome] = []
        try:
            start = time.monotonic()
            base = runner(tree, ("::",))
            if base.error:
                raise ToolError(f"the unmutated suite does not run: {base.error}")
            progress.advance()
            log(f"baseline {time.monotonic() - start:.0f}s, {len(base.failed)} failing without mutation")
            for i, m in enumerate(found, 1):
                if _key(m) in recorded:
                    outcomes.append(o := Outcome(**recorded[_key(m)]))
                    log(f"[{i}/{len(found)}] {m.path}: {m.description}: {o.outcome} (recorded)")
                    continue
                progress.status(f"{m.path}: {m.description}")
                o = _one(tree, m, subprojects, graph, all_tests, tools, originals, runner, base, impact)
                if journal is not None:
                    journal.record(_key(m), o)
                outcomes.append(o)
                progress.advance()
                log(
                    f"[{i}/{len(found)}] {m.path}: {m.description}: {o.outcome} "
                    f"(planned {o.planned}, failed {len(o.failed)}) {o.seconds:.0f}s"
                )
        except (KeyboardInterrupt, Terminated) as e:
            if journal is not None:
                e.add_note(
                    f"{len(outcomes)} of {len(found)} mutation(s) recorded in {journal_path}: "
                    "run the same command again to go on"
                )
            else:
                e.add_note(f"{len(outcomes)} of {len(found)} mutation(s) done and not kept: --journal FILE keeps them")
            raise
        return outcomes, sorted(base.failed)


def _key(m: Mutant) -> MutationKey:
    return (m.kind, m.path, m.operator, m.description)


def _one(
    tree: Path,
    m: Mutant,
    subprojects: list[Subproject],
    graph: Graph,
    all_tests: set[str],
    tools: Mapping[str, Sequence[str]],
    originals: dict[str, str],
    runner: Runner,
    base: RunResult,
    impact: Narrower | None = None,
) -> Outcome:
    """Commit ``m`` in ``tree``, plan it, run the suite, reset to HEAD, classify."""
    start = time.monotonic()
    (tree / m.path).write_text(m.text)
    git(tree, "commit", "-qam", f"audit: {m.path}: {m.description}", "--no-verify", env=_IDENT)
    plan_error = None
    try:
        head = graph
        if shapes_graph(m):
            try:
                head = load_graph(tree, pantsd=False)
            except ToolError as e:
                plan_error = f"the plan cannot read the graph: {e}"
        if plan_error is None:
            planned, skipped = planned_and_skipped(
                m.path,
                subprojects,
                head,
                all_tests,
                tool_resolves=tools,
                texts=_texts(tree, m, originals) if m.path in originals else None,
                base=graph,
                impact=impact,
            )
            run = runner(tree, ("::",))
            if run.error is not None:
                run = settle_error(tree, runner, planned, all_tests, subprojects)
        else:
            # CI's plan job fails, so nothing lands and no test runs: caught, whatever the tests
            # would say (not run; the mutation adds nothing to the precision figure).
            planned, skipped = set(all_tests), set()
            run = RunResult(set(), set(), plan_error)
    finally:
        git(tree, "reset", "-q", "--hard", "HEAD~1")
    outcome, misses, uncaught, unplanned = classify(
        planned, skipped, run, base.failed, neutral=m.operator in NEUTRAL_OPERATORS
    )
    return Outcome(
        m.path,
        m.kind,
        m.operator,
        m.description,
        outcome,
        len(planned),
        sorted(run.failed - base.failed),
        misses,
        uncaught,
        unplanned,
        run.error,
        round(time.monotonic() - start, 1),
    )
