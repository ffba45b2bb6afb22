"""clone: a partial, sparse clone of exactly what one subproject needs to build and test.

``nova-split clone SOURCE SUBPROJECT DEST`` clones SOURCE (a path, a ``file://`` URL or any URL
git fetches from, e.g. smart HTTP) without file contents (``--filter=blob:none --no-checkout``),
checks out the tooling (``build-support/``, ``.ci/``, the root files), reads the subproject's
directory set from ``build-support/clone-closures.json`` (generated from the build graph by
``nova-split ci-config``, checked by ``ci-config --check`` in CI) and checks out only those
directories in cone mode: the subproject, the nova-common directories its closure touches and
the lockfiles of its resolve and of the tools' resolve. Other drivers' files are neither fetched
nor checked out. When the committed set is missing or stale, the checkout is widened to all of
nova-common and Pants (no daemon) computes the closure in the clone.

An interrupted or failed clone leaves no DEST (an empty pre-existing DEST stays as it was). The
set is stored in ``.git/nova-split-sparse``; ``nova-split clone --refresh`` (inside such a clone)
pulls, re-reads the set and widens or narrows the checkout.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nova_common_cli.progress import Progress
from nova_split_tools.clone import clone, read_state, refresh, stats
from nova_split_tools.errors import ToolError
from nova_split_tools.output import add_format_argument, print_json
from nova_split_tools.repo import Repository

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", help="the repository to clone (a path, file:// or http(s):// URL)")
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
    source = state.get("from", "pants")
    if args.format == "json":
        print_json(
            "clone",
            {
                "root": str(root),
                "subproject": state["path"],
                "dirs": dirs,
                "dirs_from": source,
                "objects": s.objects,
                "bytes": s.bytes,
                "files": s.files,
            },
        )
        return 0
    print(f"checked out (cone mode, set from {source}): {' '.join(dirs)}, and the root files")
    print(f"{root}: {s.objects} objects, {s.bytes} bytes in objects, {s.files} files checked out")
    print(f"test it: cd {root} && ./pants test {state['path']}::")
    return 0
