"""ci-config: write per-driver CI job definitions whose path filters follow the build graph.

For CI systems that match changed files without running ``nova-split plan``: each driver's job
triggers on the paths :func:`ci_jobs.trigger_paths` gives, which follow the plan's rules at file
level (its directory, the build configuration, the files of its resolve and of the resolves tools
install from, and the nova-common files it reaches on each path whose ``[ci]`` policy is not
``skip``).
Writes ``.github/workflows/driver-<name>.yml`` (GitHub Actions ``paths:``) and
``zuul.d/drivers.yaml`` (Zuul ``files:``). ``--check`` writes nothing: it fails if a committed
file differs from what the graph gives now, shows the difference and the command that fixes it.
"""

from __future__ import annotations

import argparse

from nova_split_tools.generators import sync_ci_config
from nova_split_tools.repo import Repository

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="fail if the committed files are stale; write nothing")


def run(args: argparse.Namespace) -> int:
    sync_ci_config(Repository(args.repo).root, check=args.check)
    return 0
