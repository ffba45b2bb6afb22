"""remove-driver: delete a driver subproject and everything generated for it.

Deletes ``drivers/NAME/``, its resolve line in ``pants.toml``, and regenerates the owners, CI
config and packaging files without it; nothing else in the repository names a driver. Refuses
an unknown driver and a dirty work tree; ``--dry-run`` lists what it would change; a failure or
interrupt leaves the tree as it was. Commit the result with ``git add -A && git commit``.
"""

from __future__ import annotations

import argparse

from nova_split_tools.repo import Repository
from nova_split_tools.scaffold import remove_driver_plan

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the driver to remove")
    parser.add_argument("--dry-run", action="store_true", help="list what would change; change nothing")


def run(args: argparse.Namespace) -> int:
    root = Repository(args.repo).root
    plan = remove_driver_plan(root, args.name)
    if args.dry_run:
        print("\n".join(f"would {line}" for line in plan.describe()))
        return 0
    plan.apply(print)
    print(f"drivers/{args.name} is removed; commit with git add -A && git commit")
    return 0
