"""The repository's generated files, each kind written (or, with ``check``, compared) by one call.

The ``owners``, ``ci-config`` and ``packaging`` commands are these functions behind a ``--check``
flag; ``new-driver``/``remove-driver`` run all three so a scaffolded tree passes every gate.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nova_split_tools import ci_jobs, ci_zuul, clone, owners, owners_grammar, standalone
from nova_split_tools.errors import ToolError
from nova_split_tools.generated import sync_generated
from nova_split_tools.graph import load_graph
from nova_split_tools.subprojects import load_subprojects, registered, tool_resolves

__all__ = ["ALL", "ci_config_candidates", "sync_ci_config", "sync_clone_closures", "sync_owners", "sync_packaging"]


def sync_owners(root: Path, check: bool) -> None:
    """``.github/CODEOWNERS`` and each subproject's ``OWNERS`` from ``subproject.toml``.

    Every file is checked against its grammar (``owners_grammar``: find-owners for ``OWNERS``,
    GitHub's for ``CODEOWNERS``) before anything is written or compared.
    """
    drivers = root / "drivers"
    files = owners.render(root, load_subprojects(root))
    errors: list[str] = []
    for rel, text in files.items():
        grammar = owners_grammar.check_codeowners if rel.endswith("CODEOWNERS") else owners_grammar.check_owners
        errors += grammar(text, rel)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ToolError(f"{errors[0]}{more}; fix [owners] in the subproject.toml files")
    sync_generated(
        root,
        files,
        header=owners.HEADER,
        candidates=drivers.glob("*/OWNERS") if drivers.exists() else [],
        check=check,
        command="build-support/bin/nova-split owners",
    )


def sync_ci_config(root: Path, check: bool) -> None:
    """Per-driver GitHub workflows and the Zuul jobs (``zuul.d/``) from the build graph."""
    graph, subprojects, tools = load_graph(root), load_subprojects(root), tool_resolves(root)
    zuul = ci_zuul.render(graph, subprojects, tools)
    problem = ci_zuul.foreign_config(root, zuul[ci_zuul.PATH])
    if problem is not None:
        raise ToolError(problem)
    sync_generated(
        root,
        {**ci_jobs.render(graph, subprojects, tools), **zuul},
        header=ci_jobs.HEADER,
        candidates=ci_config_candidates(root),
        check=check,
        command="build-support/bin/nova-split ci-config",
    )


def ci_config_candidates(root: Path) -> list[Path]:
    """The files ``ci-config`` may have written earlier (a removed driver's workflow, a Zuul file):
    ``.github/workflows/driver-*.yml`` and ``zuul.d/*.yaml``, never a writer's temporary file."""
    workflows, zuul = root / ".github" / "workflows", root / "zuul.d"
    return [*sorted(workflows.glob("driver-*.yml")), *sorted(zuul.glob("*.yaml"))]


def sync_packaging(root: Path, check: bool) -> None:
    """Each driver's standalone ``pyproject.toml`` and ``tox.ini``; each subproject's ``LICENSE`` copy."""
    sync_generated(
        root,
        standalone.render(root),
        header=standalone.HEADER,
        candidates=[],  # a removed driver's files go with its directory
        check=check,
        command="build-support/bin/nova-split packaging",
    )


def sync_clone_closures(root: Path, check: bool) -> None:
    """``build-support/clone-closures.json``: each driver's closure-clone directories, from the graph."""
    sync_generated(
        root,
        {clone.CLOSURES_FILE: clone.render_closures(load_graph(root), registered(root))},
        header="",
        candidates=[],  # one file, always written
        check=check,
        command="build-support/bin/nova-split ci-config",
    )


#: Every kind of generated file, in the order a new driver needs them written.
ALL: tuple[Callable[[Path, bool], None], ...] = (sync_owners, sync_ci_config, sync_clone_closures, sync_packaging)
