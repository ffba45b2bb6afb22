"""audit: prove the CI plan misses nothing, by breaking files one at a time.

For each source file of nova-common and the drivers (or a seeded sample), in a scratch worktree
of HEAD: append a statement that raises at import, compute the plan for that one-file change,
run the FULL test suite, and compare. A test that fails outside the plan is a miss (the plan
was wrong in the unsafe direction; must be 0); precision is planned test files per failing test
file (1.0 is perfect; above 1 the plan runs tests that could not have failed). Pants' cache
means each full run only re-executes the tests the edit actually invalidated.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from nova_split_tools.errors import ToolError
from nova_split_tools.graph import Graph, load_graph
from nova_split_tools.plan import compute_plan
from nova_split_tools.repo import Change, Repository
from nova_split_tools.subprojects import load_subprojects

__all__ = ["add_arguments", "run"]

INJECTED = '\nraise RuntimeError("nova-split audit: injected failure")\n'
_FAILED = re.compile(r"^✕ (\S+?\.py):\S* failed")


@dataclass
class FileResult:
    path: str
    planned: int
    failed: int
    misses: list[str]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sample", type=int, metavar="N", help="audit N files chosen with --seed (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default: %(default)s)")
    parser.add_argument("--format", choices=("table", "json"), default="table")


def source_files(graph: Graph) -> list[str]:
    """Non-test Python sources of nova-common and the drivers."""
    return sorted(
        path
        for path, owners in graph.owners.items()
        if path.endswith(".py")
        and path.startswith(("nova-common/", "drivers/"))
        and any(graph.types.get(t) == "python_source" for t in owners)
    )


def failing_tests(pants_output: str) -> set[str]:
    return {m.group(1) for line in pants_output.splitlines() if (m := _FAILED.match(line.strip()))}


def run(args: argparse.Namespace) -> int:
    repo = Repository(args.repo)
    if args.sample is not None and args.sample < 1:
        raise ToolError("--sample must be at least 1")
    with tempfile.TemporaryDirectory(prefix="nova-split-audit-") as tmp:
        tree = Path(tmp) / "tree"
        repo.git.git.worktree("add", "--detach", str(tree), "HEAD")
        try:
            results = _audit(tree, args.sample, args.seed)
        finally:
            # Removing the worktree also ends its pantsd, which exits when its buildroot goes.
            repo.git.git.worktree("remove", "--force", str(tree))
    misses = sum(len(r.misses) for r in results)
    planned = sum(r.planned for r in results if r.failed)
    failed = sum(r.failed for r in results)
    precision = round(planned / failed, 2) if failed else None
    if args.format == "json":
        print(json.dumps({"files": [asdict(r) for r in results], "misses": misses, "precision": precision}, indent=2))
    else:
        for r in results:
            print(f"{r.path}: planned {r.planned}, failed {r.failed}" + (f", MISSED {r.misses}" if r.misses else ""))
        print(f"\naudited {len(results)} file(s): {misses} miss(es), precision {precision} (planned/failed test files)")
    return 1 if misses else 0


def _audit(tree: Path, sample: int | None, seed: int) -> list[FileResult]:
    graph = load_graph(tree, pantsd=False)
    subprojects = load_subprojects(tree)
    by_name = {s.name: s for s in subprojects}
    files = source_files(graph)
    if sample is not None:
        files = sorted(random.Random(seed).sample(files, min(sample, len(files))))
    all_tests = {p for p, owners in graph.owners.items() if graph.is_test(p)}
    results = []
    for path in files:
        plan = compute_plan([Change(path, "M")], subprojects, graph, lambda: graph)
        specs = plan.test_specs(by_name)
        planned = all_tests if specs == ["::"] else {t for t in all_tests if any(_covers(s, t) for s in specs)}
        target = tree / path
        original = target.read_text()
        target.write_text(original + INJECTED)
        try:
            proc = subprocess.run([str(tree / "pants"), "test", "::"], cwd=tree, capture_output=True, text=True)
        finally:
            target.write_text(original)
        failed = failing_tests(proc.stderr + proc.stdout)
        results.append(FileResult(path, len(planned), len(failed), sorted(failed - planned)))
    return results


def _covers(spec: str, test: str) -> bool:
    return spec == test or (spec.endswith("::") and test.startswith(spec[:-2].rstrip("/") + "/"))
