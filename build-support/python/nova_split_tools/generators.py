"""The repository's generated files, each kind written (or, with ``check``, compared) by one call.

The ``owners``, ``ci-config`` and ``packaging`` commands are these functions behind a ``--check``
flag; ``new-driver``/``remove-driver`` run all three so a scaffolded tree passes every gate.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nova_split_tools import ci_jobs, owners, standalone
from nova_split_tools.generated import sync_generated
from nova_split_tools.graph import load_graph
from nova_split_tools.subprojects import load_subprojects, tool_resolves

__all__ = ["ALL", "sync_ci_config", "sync_owners", "sync_packaging"]


def sync_owners(root: Path, check: bool) -> None:
    """``.github/CODEOWNERS`` and each subproject's ``OWNERS`` from ``subproject.toml``."""
    drivers = root / "drivers"
    sync_generated(
        root,
        owners.render(root, load_subprojects(root)),
        header=owners.HEADER,
        candidates=drivers.glob("*/OWNERS") if drivers.exists() else [],
        check=check,
        command="build-support/bin/nova-split owners",
    )


def sync_ci_config(root: Path, check: bool) -> None:
    """Per-driver GitHub workflows and ``zuul.d/drivers.yaml`` from the build graph."""
    workflows = root / ".github" / "workflows"
    sync_generated(
        root,
        ci_jobs.render(load_graph(root), load_subprojects(root), tool_resolves(root)),
        header=ci_jobs.HEADER,
        candidates=workflows.glob("driver-*.yml") if workflows.exists() else [],
        check=check,
        command="build-support/bin/nova-split ci-config",
    )


def sync_packaging(root: Path, check: bool) -> None:
    """Each driver's standalone ``pyproject.toml`` and ``tox.ini``."""
    sync_generated(
        root,
        standalone.render(root),
        header=standalone.HEADER,
        candidates=[],  # a removed driver's files go with its directory
        check=check,
        command="build-support/bin/nova-split packaging",
    )


#: Every kind of generated file, in the order a new driver needs them written.
ALL: tuple[Callable[[Path, bool], None], ...] = (sync_owners, sync_ci_config, sync_packaging)
