"""The nova-common files selftests/BUILD declares for the self-tests that run nova-common's code
(``NOVA_COMMON_RUN_BY``) are the files that code imports: Pants cannot infer these dependencies
(generated code, a child process's script), so a list that drifts would leave a change that breaks
the self-test out of the plan. (A key naming no self-test fails in Pants: an unmatched override.)
Likewise the self-tests that run ``nova-split plan`` in their clone (``_PLANS``) depend on the
committed test-impact map, which narrows those plans."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from nova_split_tools.driver_template import DriverSpec, render
from nova_split_tools.release_pants import _LOAD

BUILD = Path(__file__).with_name("BUILD")


def _assigned(name: str) -> object:
    for node in ast.parse(BUILD.read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == [name]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{BUILD} defines no {name}")


def _declared() -> dict[str, list[str]]:
    value = _assigned("NOVA_COMMON_RUN_BY")
    assert isinstance(value, dict)
    return value


#: The commands that read the committed test-impact map (``impact_at``).
_MAP_READERS = {"plan", "audit"}


def _runs_plan(source: str) -> bool:
    """Whether a self-test runs a command that reads the test-impact map: a call, a command list
    or tuple, or a command line (``"nova-split plan X"``) with ``plan`` or ``audit`` (not
    ``release plan``) among its literal words. (A heuristic over the source: a self-test that
    builds its command another way must be added to ``_PLANS`` by hand.)"""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            args = node.args
        elif isinstance(node, (ast.List, ast.Tuple)):
            args = node.elts
        else:
            continue
        words: list[object] = []
        for a in args:
            value: object = a.value if isinstance(a, ast.Constant) else None
            if isinstance(value, str) and value.startswith("nova-split "):
                words.extend(value.split())
            else:
                words.append(value)
        if any(w in _MAP_READERS and (i == 0 or words[i - 1] != "release") for i, w in enumerate(words)):
            return True
    return False


def _imports(sources: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for text in sources:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module:
                out.add(node.module)
            elif isinstance(node, ast.Import):
                out |= {a.name for a in node.names}
    return {m for m in out if m == "nova_common" or m.startswith("nova_common.")}


def _compare(modules: Iterable[str], declared: list[str]) -> tuple[list[str], list[str]]:
    """(modules no declared file provides, declared files no module needs): a module's file is
    ``rel.py`` or, for a package, ``rel/__init__.py`` (nova_common.objects -> objects/__init__.py)."""
    needed: set[str] = set()
    missing = []
    for module in sorted(modules):
        rel = module.removeprefix("nova_common.").replace(".", "/")
        found = [f for f in (f"{rel}.py", f"{rel}/__init__.py") if f in declared]
        needed |= set(found)
        if not found:
            missing.append(module)
    return missing, sorted(set(declared) - needed)


def test_the_new_driver_template_imports_what_is_declared() -> None:
    files = render(DriverSpec("vbox", (), (), ("ann",), (1, 0)))
    imported = _imports(t for p, t in files.items() if p.endswith(".py"))
    # the end-to-end helper is left out on purpose (the compute service; see selftests/BUILD)
    assert "nova_common.testing.cli" in imported
    missing, extra = _compare(imported - {"nova_common.testing.cli"}, _declared()["new_driver_integration_test.py"])
    assert (missing, extra) == ([], []), "update NOVA_COMMON_RUN_BY in selftests/BUILD: not declared, not used"


def test_the_release_smoke_imports_what_is_declared() -> None:
    missing, extra = _compare(_imports([_LOAD]), _declared()["release_integration_test.py"])
    assert (missing, extra) == ([], []), "update NOVA_COMMON_RUN_BY in selftests/BUILD: not declared, not used"


def test_the_self_tests_that_plan_depend_on_the_impact_map() -> None:
    # (the GitHub workflow self-test runs the plan through the workflows' steps; its target
    # declares the map itself)
    planners = sorted(
        p.name
        for p in BUILD.parent.glob("*_integration_test.py")
        if p.name != "github_workflow_integration_test.py" and _runs_plan(p.read_text())
    )
    assert planners, "no self-test source found next to BUILD"
    declared = _assigned("_PLANS")
    assert isinstance(declared, list)
    assert planners == sorted(declared), "update _PLANS in selftests/BUILD"


def test_a_release_plan_is_not_a_plan() -> None:
    assert _runs_plan('nova_split(repo, "plan", "HEAD~1")')
    assert _runs_plan('run(["nova-split", "plan", "--format", "json"])')
    assert _runs_plan('run(("nova-split", "audit", "--sample", "4"))')
    assert _runs_plan('ARGS = [("plan", "HEAD~1")]')
    assert _runs_plan('run("nova-split plan HEAD~1", shell=True)')
    assert not _runs_plan('nova_split(repo, "release", "plan", name)')
    assert not _runs_plan('run(["nova-split", "release", "plan", "xen"])')
