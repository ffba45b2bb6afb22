"""ci-config: write per-driver CI job definitions whose path filters follow the build graph.

For CI systems that match changed files without running ``nova-split plan``: each driver's job
triggers on its own directory, the nova-common files in its dependency closure (unless its
``[ci] core-changes`` policy is ``skip``) and the build configuration that runs everything.
Writes ``.github/workflows/driver-<name>.yml`` (GitHub Actions ``paths:``) and
``zuul.d/drivers.yaml`` (Zuul ``files:``). ``--check`` writes nothing: it fails if a committed
file differs from what the graph gives now, shows the difference and the command that fixes it.
"""

from __future__ import annotations

import argparse

from nova_split_tools.generators import sync_ci_config
from nova_split_tools.output import add_format_argument, run_generator
from nova_split_tools.repo import Repository

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="fail if the committed files are stale; write nothing")
    add_format_argument(parser)


def run(args: argparse.Namespace) -> int:
    return run_generator("ci-config", sync_ci_config, Repository(args.repo).root, args.check, args.format)
