"""``audit --report FILE --replan``: a journal's behavioural mutations planned again at HEAD.

A journal records, for each mutation, the test files that failed at its commit. When the selection
changes (the plan's rules, the build graph's edges, a module moved) but the code under test does
not, those failures still hold, and planning each recorded mutation again at HEAD tells, in minutes
and without running a test, whether today's selection still plans every recorded failure (misses,
uncaught skips) and what it costs (precision). It is a projection, not an audit:

* a mutation is made again at HEAD with the journal's seed, in the file the journal names or the
  file it was renamed to since (git's rename detection); recorded failing test files are followed
  through renames too, and one that no longer exists is left out (reported on stderr);
* a mutated module whose text changed since the journal's commit may now fail other tests: its
  description says ``changed since <commit>``, and the summary line counts them;
* a module deleted since is left out (reported on stderr); input mutations are not re-planned (their
  plan needs the graph of the mutated tree, that is, a Pants run each).

Only an audit at HEAD measures; this says whether one is worth its hours.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nova_split_tools.audit import Outcome, RunResult, _texts, classify, mutants, planned_and_skipped
from nova_split_tools.audit_journal import Journal
from nova_split_tools.errors import ToolError
from nova_split_tools.graph import load_graph
from nova_split_tools.proc import git, git_probe
from nova_split_tools.repo import worktree
from nova_split_tools.subprojects import load_subprojects, tool_resolves

__all__ = ["Replanned", "renames_since", "replan"]


@dataclass
class Replanned:
    """The re-planned outcomes, the commit they were planned at, and how many changed since."""

    outcomes: list[Outcome]
    head: str
    changed: int


def renames_since(root: Path, commit: str, head: str) -> dict[str, str]:
    """Paths renamed between ``commit`` and ``head``: old path -> new path (git's detection)."""
    out = git(root, "diff", "-M", "--name-status", "--diff-filter=R", "-z", commit, head)
    fields = out.split("\0")
    renames: dict[str, str] = {}
    i = 0
    while i + 2 < len(fields):
        status, old, new = fields[i], fields[i + 1], fields[i + 2]
        if status.startswith("R"):
            renames[old] = new
        i += 3
    return renames


def _text_at(root: Path, commit: str, path: str) -> str | None:
    """``path``'s text at ``commit`` (None where it did not exist)."""
    try:
        return git(root, "show", f"{commit}:{path}")
    except ToolError:
        return None


def replan(root: Path, journal: Journal) -> Replanned:
    """Every behavioural mutation ``journal`` records, planned at HEAD of ``root`` (see the module doc)."""
    if git_probe(root, "cat-file", "-t", journal.commit) != "commit":
        raise ToolError(
            f"the journal's commit {journal.commit[:12]} is not in {root}: fetch it, or re-plan in a clone that has it"
        )
    head = git(root, "rev-parse", "HEAD").strip()
    renames = renames_since(root, journal.commit, head)
    recorded = [Outcome(**o) for key, o in sorted(journal.recorded.items()) if key[0] == "python"]
    if not recorded:
        raise ToolError(f"the journal {journal.path} records no behavioural (python) mutation to re-plan")

    def log(line: str) -> None:
        print(f"audit --replan: {line}", file=sys.stderr)

    with (
        tempfile.TemporaryDirectory(prefix="nova-split-replan-") as tmp,
        worktree(root, head, Path(tmp) / "tree") as tree,
    ):
        log(f"reading the build graph of HEAD ({head[:12]})")
        graph = load_graph(tree, pantsd=False)
        subprojects = load_subprojects(tree)
        all_tests = {p for p in graph.owners if graph.is_test(p)}
        tools = tool_resolves(tree)
        found = {m.path: m for m in mutants(tree, graph, ["python"], journal.seed)}
        outcomes: list[Outcome] = []
        changed = 0
        for old in recorded:
            path = renames.get(old.path, old.path)
            m = found.get(path)
            if m is None:
                log(f"{old.path}: gone since {journal.commit[:12]} (no non-test module there at HEAD): left out")
                continue
            original = (tree / path).read_text()
            note = ""
            if _text_at(root, journal.commit, old.path) != original:
                changed += 1
                note = f" (changed since {journal.commit[:12]})"
            failed = {renames.get(f, f) for f in old.failed}
            for gone in sorted(failed - all_tests):
                log(f"{old.path}: recorded failing test {gone} is gone at HEAD: left out")
            failed &= all_tests
            planned, skipped = planned_and_skipped(
                path,
                subprojects,
                graph,
                all_tests,
                tool_resolves=tools,
                texts=_texts(tree, m, {path: original}),
                base=graph,
            )
            outcome, misses, uncaught, _ = classify(planned, skipped, RunResult(failed, set()))
            outcomes.append(
                Outcome(
                    path,
                    "python",
                    m.operator,
                    m.description + note,
                    outcome,
                    len(planned),
                    sorted(failed),
                    misses,
                    uncaught,
                    [],
                )
            )
    return Replanned(outcomes, head, changed)
