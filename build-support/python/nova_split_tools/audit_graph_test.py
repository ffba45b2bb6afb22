"""An input that shapes the build graph (a BUILD file, requirements) is planned with the graph of
the mutated tree, as CI's plan job plans a change with the graph of that change.

The repository, its worktree and commits are real; the graphs are the fixture's
(nova_split_tools.testing.graphs), and the test run stands in for ``pants test ::``.
"""

from collections.abc import Sequence
from pathlib import Path

import pytest

from nova_split_tools import audit as audit_module
from nova_split_tools.audit import RunResult, audit, covers
from nova_split_tools.errors import ToolError
from nova_split_tools.graph import Graph
from nova_split_tools.testing.graphs import SOURCES, XN, graph, subprojects
from nova_split_tools.testing.repos import commit, new_repo

BUILD = "drivers/libvirt/BUILD"
XEN_TEST = f"{XN}/driver_test.py"


def _mutated(tree: Path) -> bool:
    """Whether the audit's build-rename edit is in ``tree``'s libvirt BUILD file."""
    return "LibvirtDriverAudit" in (tree / BUILD).read_text()


def _claims_xen(g: Graph) -> Graph:
    """``g`` where libvirt's BUILD file also declares a target owning xen's driver (the edit
    moved a file between targets: only the graph after it shows that xen is reached)."""
    address = "drivers/libvirt:claimed"
    g.sources[address] = [f"{XN}/driver.py"]
    g.owners[f"{XN}/driver.py"].add(address)
    g.types[address] = "python_sources"
    return g


def _runner(tree: Path, specs: Sequence[str]) -> RunResult:
    """xen's test fails when the BUILD edit is in the tree."""
    failed = {XEN_TEST} if _mutated(tree) and any(covers(s, XEN_TEST) for s in specs) else set()
    return RunResult(failed=failed, rerun=set(failed))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = new_repo(tmp_path / "repo")
    commit(root, "sources and a BUILD file", {**SOURCES, BUILD: 'nova_driver(driver_class="LibvirtDriver")\n'})
    monkeypatch.setattr(audit_module, "load_subprojects", lambda tree: subprojects())
    monkeypatch.setattr(audit_module, "tool_resolves", lambda tree: {})
    return root


def test_a_build_edit_is_planned_with_the_graph_after_it(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[bool] = []

    def load(tree: Path, pantsd: bool) -> Graph:
        read.append(_mutated(tree))
        return _claims_xen(graph()) if _mutated(tree) else graph()

    monkeypatch.setattr(audit_module, "load_graph", load)
    [o], _ = audit(repo, sample=None, seed=0, kinds=["inputs"], runner=_runner)
    assert (o.path, o.operator) == (BUILD, "build-rename")
    assert read == [False, True]  # HEAD's graph, then the mutated tree's
    # With HEAD's graph the BUILD declares nothing that reaches xen, and xen's failure is a miss.
    assert (o.outcome, o.failed, o.misses, o.error) == ("caught", [XEN_TEST], [], None)


def test_a_graph_the_plan_cannot_read_stops_ci_and_is_caught(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def load(tree: Path, pantsd: bool) -> Graph:
        if _mutated(tree):
            raise ToolError("pants peek failed: drivers/libvirt/BUILD: name 'nova_driver' is not defined")
        return graph()

    monkeypatch.setattr(audit_module, "load_graph", load)
    [o], _ = audit(repo, sample=None, seed=0, kinds=["inputs"], runner=_runner)
    assert (o.outcome, o.misses, o.uncaught_skips) == ("caught", [], [])
    assert o.error is not None and o.error.startswith("the plan cannot read the graph: pants peek failed")
    assert o.planned == len({p for p in graph().owners if graph().is_test(p)})  # CI stops before any test
    assert o.failed == []  # no suite runs for it: the outcome is settled, and precision leaves it out


def test_python_edits_keep_heads_graph(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []

    def load(tree: Path, pantsd: bool) -> Graph:
        calls.append(tree)
        return graph()

    monkeypatch.setattr(audit_module, "load_graph", load)
    outcomes, _ = audit(repo, sample=None, seed=0, kinds=["python"], runner=_runner)
    assert outcomes and len(calls) == 1  # read once, for HEAD: a Python edit does not change targets
