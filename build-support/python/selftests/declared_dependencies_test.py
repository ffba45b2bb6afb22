"""The nova-common files selftests/BUILD declares for the self-tests that run nova-common's code
(``NOVA_COMMON_RUN_BY``) are the files that code imports: Pants cannot infer these dependencies
(generated code, a child process's script), so a list that drifts would leave a change that breaks
the self-test out of the plan. (A key naming no self-test fails in Pants: an unmatched override.)"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from nova_split_tools.driver_template import DriverSpec, render
from nova_split_tools.release_pants import _LOAD

BUILD = Path(__file__).with_name("BUILD")


def _declared() -> dict[str, list[str]]:
    for node in ast.parse(BUILD.read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["NOVA_COMMON_RUN_BY"]:
            value = ast.literal_eval(node.value)
            assert isinstance(value, dict)
            return value
    raise AssertionError(f"{BUILD} defines no NOVA_COMMON_RUN_BY")


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
