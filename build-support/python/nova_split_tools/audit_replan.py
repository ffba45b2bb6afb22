"""``audit --report FILE --replan``: a journal's behavioural mutations planned again at HEAD.

A journal records, for each mutation, the test files that failed at its commit. When the selection
changes (the plan's rules, the build graph's edges, a module moved) but the code under test does
not, those failures still hold, and planning each recorded mutation again at HEAD tells, in minutes
and without running a test, whether today's selection still plans every recorded failure (misses,
uncaught skips) and what it costs (precision). It is a projection, not an audit:

* the recorded mutation itself is made again at HEAD: the same operator and edit (its description
  without the line number) in the file the journal names, or the file it was renamed to since
  (git's rename detection), at the recorded line or, if the code moved, the nearest such site;
  where no such site is left, the mutation is left out;
* recorded failing test files are followed through renames; one that no longer exists is left out,
  and a mutation left with none of its recorded failures is left out too (not a survivor);
* a mutated module whose bytes changed since the journal's commit may now fail other tests: its
  description says ``changed since <commit>`` and the figures count them; a test edited or added
  since is not seen at all, so zero projected misses is a lower bound on nothing;
* a recorded Pants error stays an error (caught by a red plan); a mutation left unsettled by an
  earlier version is left out; unplanned re-runs and durations are not projected (null);
* input mutations are not re-planned (their plan needs the mutated tree's graph: a Pants run each).

The work tree must be clean: its files are HEAD's, and the graph is HEAD's (the plan's cache per
commit, :func:`~nova_split_tools.graph.graph_at`), so the plan runs with nothing but HEAD.
Everything left out is named on stderr and counted in :class:`Replanned`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from nova_split_tools.audit import Mutant, Outcome, RunResult, _texts, classify, planned_and_skipped
from nova_split_tools.audit_journal import Journal
from nova_split_tools.errors import ToolError
from nova_split_tools.graph import graph_at
from nova_split_tools.impact import impact_at
from nova_split_tools.mutations import Site, apply, sites
from nova_split_tools.proc import git, git_bytes, git_probe
from nova_split_tools.repo import Repository
from nova_split_tools.subprojects import load_subprojects, tool_resolves

__all__ = ["Replanned", "find_site", "renames_since", "replan"]


@dataclass
class Replanned:
    """The re-planned outcomes and where they come from (``replanned`` in the JSON report)."""

    outcomes: list[Outcome]
    head: str
    journal_commit: str
    #: mutated modules whose bytes changed since the journal's commit
    changed: int = 0
    #: what was left out, one line each (mutations and recorded failures)
    left_out: list[str] = field(default_factory=list)
    #: input mutations the journal holds (not re-planned)
    inputs: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "head": self.head,
            "journal_commit": self.journal_commit,
            "changed_since": self.changed,
            "left_out": self.left_out,
            "inputs_not_replanned": self.inputs,
        }


def renames_since(root: Path, commit: str, head: str) -> dict[str, str]:
    """Paths renamed between ``commit`` and ``head``: old path -> new path (git's detection)."""
    fields = git(root, "diff", "-M", "--name-status", "--diff-filter=R", "-z", commit, head).split("\0")
    renames: dict[str, str] = {}
    i = 0
    while i + 2 < len(fields):
        status, old, new = fields[i], fields[i + 1], fields[i + 2]
        if status.startswith("R"):
            renames[old] = new
        i += 3
    return renames


def _edit(description: str) -> tuple[str, int, str] | None:
    """(operator, line, edit) of a site's description ``op line N: before -> after``."""
    head, sep, edit = description.partition(": ")
    parts = head.split(" ")
    if not sep or len(parts) != 3 or parts[1] != "line" or not parts[2].isdigit():
        return None
    return parts[0], int(parts[2]), edit


def find_site(source: str, description: str) -> Site | None:
    """The site of ``source`` that makes the edit ``description`` names: the same operator and
    edit, at that line or, where the code moved, the nearest line offering it; None if none does."""
    wanted = _edit(description)
    if wanted is None:
        return None
    operator, line, edit = wanted
    same = [s for s in sites(source) if _edit(s.description) == (operator, s.line, edit)]
    if not same:
        return None
    return min(same, key=lambda s: (abs(s.line - line), s.line))


def replan(root: Path, journal: Journal, *, use_impact: bool = True) -> Replanned:
    """Every behavioural mutation ``journal`` records, planned at HEAD of ``root`` (see the module
    doc), with the test-impact map committed at HEAD unless not ``use_impact``."""
    if git_probe(root, "cat-file", "-t", journal.commit) != "commit":
        raise ToolError(
            f"the journal's commit {journal.commit[:12]} is not in {root}: fetch it, or re-plan in a clone that has it"
        )
    if git(root, "status", "--porcelain", "--untracked-files=no").strip():
        raise ToolError(
            "the work tree has uncommitted changes: --replan plans HEAD (its graph, and its files read from "
            "the work tree); commit or stash them first"
        )
    head = git(root, "rev-parse", "HEAD").strip()
    renames = renames_since(root, journal.commit, head)
    recorded = [Outcome(**o) for key, o in sorted(journal.recorded.items()) if key[0] == "python"]
    result = Replanned([], head, journal.commit, inputs=len(journal.recorded) - len(recorded))
    if not recorded:
        raise ToolError(f"the journal {journal.path} records no behavioural (python) mutation to re-plan")

    def leave_out(line: str) -> None:
        result.left_out.append(line)
        print(f"audit --replan: left out: {line}", file=sys.stderr)

    if result.inputs:
        print(
            f"audit --replan: {result.inputs} input mutation(s) of the journal not re-planned "
            "(their plan needs the graph of the mutated tree)",
            file=sys.stderr,
        )
    print(f"audit --replan: reading the build graph of HEAD ({head[:12]})", file=sys.stderr)
    graph = graph_at(Repository(root), head)
    subprojects = load_subprojects(root)
    all_tests = {p for p in graph.owners if graph.is_test(p)}
    tools = tool_resolves(root)
    impact = impact_at(Repository(root), head, graph, subprojects, tools) if use_impact else None
    for old in recorded:
        path = renames.get(old.path, old.path)
        if old.outcome == "pants-error":
            leave_out(f"{old.path}: {old.description}: left unsettled at {journal.commit[:12]}")
            continue
        if not (root / path).is_file():
            leave_out(f"{old.path}: {old.description}: the module is gone at HEAD")
            continue
        original = (root / path).read_text()
        site = find_site(original, old.description)
        if site is None:
            leave_out(f"{old.path}: {old.description}: no such edit in {path} at HEAD")
            continue
        note = "" if site.line == _line(old.description) else f" (now line {site.line})"
        if git_bytes(root, "cat-file", "-p", f"{journal.commit}:{old.path}") != (root / path).read_bytes():
            result.changed += 1
            note += f" (changed since {journal.commit[:12]})"
        failed = {renames.get(f, f) for f in old.failed}
        for gone in sorted(failed - all_tests):
            leave_out(f"{old.path}: {old.description}: recorded failing test {gone} is gone at HEAD")
        kept = failed & all_tests
        if failed and not kept:
            leave_out(f"{old.path}: {old.description}: none of its recorded failing tests is left")
            continue
        planned, skipped = planned_and_skipped(
            path,
            subprojects,
            graph,
            all_tests,
            tool_resolves=tools,
            texts=_texts(
                root,
                Mutant("python", path, site.operator, site.description, apply(original, site)),
                {path: original},
            ),
            base=graph,
            impact=impact,
        )
        outcome, misses, uncaught, _ = classify(planned, skipped, RunResult(kept, set(), old.error))
        result.outcomes.append(
            Outcome(
                path,
                "python",
                old.operator,
                f"{old.description}{note}",
                outcome,
                len(planned),
                sorted(kept),
                misses,
                uncaught,
                [],
                old.error,
            )
        )
    return result


def _line(description: str) -> int | None:
    parsed = _edit(description)
    return parsed[1] if parsed else None
