"""ci-config: write per-driver CI job definitions whose path filters follow the build graph.

For CI systems that match changed files without running ``nova-split plan``: each driver's job
triggers on the paths :func:`ci_jobs.trigger_paths` gives, which follow the plan's rules at file
level (its directory, the build configuration, the files of its resolve and of the resolves tools
install from, and the nova-common files it reaches on each path whose ``[ci]`` policy is not
``skip``).
Writes ``.github/workflows/ci.yml`` (the plan-driven workflow), ``.github/workflows/driver-<name>.yml``
(GitHub Actions ``paths:``), ``pants.ci.toml``, ``zuul.d/nova-split.yaml`` (Zuul jobs with ``files:``)
and ``build-support/clone-closures.json`` (the directories ``nova-split clone`` checks out for each
driver). ``--check`` writes nothing: it fails if a committed
file differs from what the graph gives now, shows the difference and the command that fixes it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nova_split_tools.errors import CheckFailed
from nova_split_tools.generators import sync_ci_config, sync_clone_closures
from nova_split_tools.output import add_format_argument, run_generator
from nova_split_tools.repo import Repository

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="fail if the committed files are stale; write nothing")
    add_format_argument(parser)


def run(args: argparse.Namespace) -> int:
    return run_generator("ci-config", _sync, Repository(args.repo).root, args.check, args.format)


def _sync(root: Path, check: bool) -> None:
    """The CI jobs, then the clone closures; with ``check`` both are compared before it fails."""
    stale: list[str] = []
    for sync in (sync_ci_config, sync_clone_closures):
        try:
            sync(root, check)
        except CheckFailed as e:
            stale += e.details
    if stale:
        raise CheckFailed(
            f"{len(stale)} generated file(s) are stale ({', '.join(stale)}); "
            "regenerate them with: build-support/bin/nova-split ci-config",
            stale,
        )
