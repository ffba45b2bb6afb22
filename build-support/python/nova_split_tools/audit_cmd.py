"""audit: prove the CI plan misses nothing, by breaking files one at a time.

For each source file of nova-common and the drivers (or a seeded sample), in a scratch worktree
of HEAD: append a statement that raises at import, compute the plan for that one-file change,
run the FULL test suite, and compare. A test that fails outside the plan is a miss (the plan
was wrong in the unsafe direction; must be 0); precision is planned test files per failing test
file (1.0 is perfect; above 1 the plan runs tests that could not have failed). Pants' cache
means each full run only re-executes the tests the edit actually invalidated.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

from nova_common.compute.progress import Progress
from nova_split_tools.audit import audit
from nova_split_tools.output import add_format_argument, print_json
from nova_split_tools.repo import Repository

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sample", type=int, metavar="N", help="audit N files chosen with --seed (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default: %(default)s)")
    add_format_argument(parser)


def run(args: argparse.Namespace) -> int:
    with Progress("audit: files") as progress:
        results = audit(Repository(args.repo).root, args.sample, args.seed, progress)
    misses = sum(len(r.misses) for r in results)
    planned = sum(r.planned for r in results if r.failed)
    failed = sum(r.failed for r in results)
    precision = round(planned / failed, 2) if failed else None
    if args.format == "json":
        print_json("audit", {"files": [asdict(r) for r in results], "misses": misses, "precision": precision})
    else:
        for r in results:
            print(f"{r.path}: planned {r.planned}, failed {r.failed}" + (f", MISSED {r.misses}" if r.misses else ""))
        print(f"\naudited {len(results)} file(s): {misses} miss(es), precision {precision} (planned/failed test files)")
    return 1 if misses else 0
