"""clone: a partial, sparse clone of exactly what one subproject needs to build and test.

``nova-split clone SOURCE SUBPROJECT DEST`` computes the subproject's dependency closure from the
build graph of SOURCE (a local work tree), turns it into the smallest set of directories, then
clones without file contents (``--filter=blob:none --no-checkout``) and checks out only those
directories in cone mode: the subproject, the nova-common directories its closure touches, the
lockfile of its resolve and of the tools' resolve (``common``), the build tooling
(``build-support/``, ``.ci/``) and the root build files (cone mode always has them). Other
drivers' files are neither fetched nor checked out; a resolve whose lockfile is absent is fine
for Pants as long as no requested target uses it.

The derived directory set is stored in ``.git/nova-split-sparse``. ``nova-split clone --refresh``
(inside such a clone) pulls, recomputes the set from the clone's own graph and widens or narrows
the checkout. A SOURCE that is not a local directory (a URL) is cloned with the tooling first and
its set computed in the clone the same way.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nova_common.compute.progress import Progress
from nova_split_tools.clone import clone, read_state, refresh, stats
from nova_split_tools.errors import ToolError
from nova_split_tools.output import add_format_argument, print_json
from nova_split_tools.repo import Repository

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", help="the repository to clone (a local path or a URL)")
    parser.add_argument("subproject", nargs="?", help="a driver name (xen) or directory (drivers/xen)")
    parser.add_argument("dest", nargs="?", type=Path, help="the new clone's directory (must not exist or be empty)")
    parser.add_argument("--refresh", action="store_true", help="inside a closure clone: pull, recompute the checkout")
    parser.add_argument("--no-pull", action="store_true", help="with --refresh: recompute without pulling")
    add_format_argument(parser)


def run(args: argparse.Namespace) -> int:
    if args.refresh:
        if args.source or args.subproject or args.dest:
            raise ToolError("--refresh takes no arguments; run it inside a closure clone (or pass --repo)")
        with Progress("clone --refresh"):
            dirs = refresh(args.repo, pull=not args.no_pull)
        root = Repository(args.repo).root
    else:
        if args.dest is None:
            raise ToolError("usage: nova-split clone SOURCE SUBPROJECT DEST (or --refresh inside a clone)")
        with Progress(f"clone {args.subproject} from {args.source}"):
            dirs = clone(args.source, args.subproject, args.dest)
        root = args.dest
    s = stats(root)
    state = read_state(root)
    if args.format == "json":
        print_json(
            "clone",
            {
                "root": str(root),
                "subproject": state["path"],
                "dirs": dirs,
                "objects": s.objects,
                "bytes": s.bytes,
                "files": s.files,
            },
        )
        return 0
    print(f"checked out (cone mode): {' '.join(dirs)}, and the root files")
    print(f"{root}: {s.objects} objects, {s.bytes} bytes in objects, {s.files} files checked out")
    print(f"test it: cd {root} && ./pants test {state['path']}::")
    return 0
