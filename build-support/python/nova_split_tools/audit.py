"""The audit's engine: break each source file in turn and compare the failing tests with the plan.

A test that fails outside the plan is a miss (the plan was wrong in the unsafe direction).
The command, with the figures it prints, is ``audit_cmd``.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nova_common.compute.progress import Progress
from nova_split_tools.errors import ToolError
from nova_split_tools.graph import Graph, failed_tests, load_graph
from nova_split_tools.plan import compute_plan
from nova_split_tools.proc import status
from nova_split_tools.repo import Change, worktree
from nova_split_tools.subprojects import load_subprojects

__all__ = ["INJECTED", "FileResult", "audit", "covers", "source_files"]


INJECTED = '\nraise RuntimeError("nova-split audit: injected failure")\n'


@dataclass
class FileResult:
    path: str
    planned: int
    failed: int
    misses: list[str]


def source_files(graph: Graph) -> list[str]:
    """Non-test Python sources of nova-common and the drivers."""
    return sorted(
        path
        for path, owners in graph.owners.items()
        if path.endswith(".py")
        and path.startswith(("nova-common/", "drivers/"))
        and any(graph.types.get(t) == "python_source" for t in owners)
    )


def audit(root: Path, sample: int | None, seed: int, progress: Progress | None = None) -> list[FileResult]:
    """Audit every source file (or a ``sample`` of them chosen with ``seed``) in a worktree of HEAD.

    ``progress`` (optional) is told the number of files and each file as it starts.
    """
    if sample is not None and sample < 1:
        raise ToolError("--sample must be at least 1")
    with (
        tempfile.TemporaryDirectory(prefix="nova-split-audit-") as tmp,
        worktree(root, "HEAD", Path(tmp) / "tree") as tree,
    ):
        return _audit(tree, sample, seed, progress or Progress("audit", show=False))


def _audit(tree: Path, sample: int | None, seed: int, progress: Progress) -> list[FileResult]:
    graph = load_graph(tree, pantsd=False)
    subprojects = load_subprojects(tree)
    by_name = {s.name: s for s in subprojects}
    files = source_files(graph)
    if sample is not None:
        files = sorted(random.Random(seed).sample(files, min(sample, len(files))))
    all_tests = {p for p, owners in graph.owners.items() if graph.is_test(p)}
    results = []
    progress.total = len(files)
    for path in files:
        progress.status(path)
        plan = compute_plan([Change(path, "M")], subprojects, graph, lambda: graph)
        specs = plan.test_specs(by_name)
        planned = all_tests if specs == ["::"] else {t for t in all_tests if any(covers(s, t) for s in specs)}
        target = tree / path
        original = target.read_text()
        target.write_text(original + INJECTED)
        try:
            _, output = status([str(tree / "pants"), "test", "::"], tree)
        finally:
            target.write_text(original)
        failed = failed_tests(output)
        results.append(FileResult(path, len(planned), len(failed), sorted(failed - planned)))
        progress.advance()
    return results


def covers(spec: str, test: str) -> bool:
    """Whether the test spec ``spec`` (a file, or ``dir::``) selects the test file ``test``."""
    return spec == test or (spec.endswith("::") and test.startswith(spec[:-2].rstrip("/") + "/"))
