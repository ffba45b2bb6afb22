"""new-driver: scaffold a working driver subproject, with everything CI checks for it.

Writes ``drivers/NAME/`` (metadata, BUILD, a skeleton driver over a client interface with an
in-memory test hypervisor, its tests), adds its resolve line to ``pants.toml``, generates its
lockfile (``./pants generate-lockfiles``, from the package index) and regenerates the owners, CI
config and packaging files. The result passes ``.ci/run`` as it is; commit it with
``git add -A && git commit``. ``--client-package`` (repeatable) names the hypervisor's client
library: it goes into ``requirements.txt`` and ``subproject.toml``'s ``client-packages`` (which
no other driver's lockfile may contain). Refuses a bad or taken name and a dirty work tree;
``--dry-run`` lists what it would write; a failure or interrupt leaves the tree as it was.
"""

from __future__ import annotations

import argparse

from nova_split_tools.repo import Repository
from nova_split_tools.scaffold import new_driver_plan, spec_for

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the driver's short name: its directory, resolve, package and entry point")
    parser.add_argument(
        "--client-package",
        action="append",
        default=[],
        metavar="REQ",
        help="a client library requirement, e.g. 'pyvbox>=1.0' (repeatable)",
    )
    parser.add_argument(
        "--owner",
        action="append",
        default=[],
        metavar="EMAIL",
        help="a core team member's e-mail address (default: nova-common's team)",
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be written; write nothing")


def run(args: argparse.Namespace) -> int:
    root = Repository(args.repo).root
    plan = new_driver_plan(root, spec_for(root, args.name, args.client_package, args.owner))
    if args.dry_run:
        print("\n".join(f"would {line}" for line in plan.describe()))
        return 0
    plan.apply(print)
    print(f"drivers/{args.name} is ready: ./pants test drivers/{args.name}:: ; then git add -A && git commit")
    return 0
