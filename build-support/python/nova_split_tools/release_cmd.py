"""release: plan and cut a release of one subproject (nova-common or a driver), on its own.

  release plan SUBPROJECT [--format json]   what changed since its last tag (its own files, the
                                            nova-common files in its dependency closure, its
                                            lockfile), its pending notes, the suggested version
  release cut SUBPROJECT [--version X.Y.Z] [--dry-run] [--force]
                                            bump subproject.toml, assemble CHANGELOG.md with
                                            towncrier, build and install-check the wheel, run its
                                            tests, commit, then tag <distribution>-<version>

Tags are per distribution (nova-libvirt-1.4.0, nova-common-1.1.0), so subprojects release
independently. A cut that fails or is interrupted rolls back to the starting commit: no tag,
no half-written changelog, fragments restored.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from nova_common.compute.progress import Progress
from nova_split_tools.errors import ToolError
from nova_split_tools.graph import Graph, load_graph
from nova_split_tools.output import add_format_argument, print_json
from nova_split_tools.release import Closure, compute_plan, cut, find_subproject
from nova_split_tools.release_pants import PantsToolchain
from nova_split_tools.repo import Repository
from nova_split_tools.subprojects import CORE

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    plan = sub.add_parser("plan", help="what changed since the subproject's last release")
    plan.add_argument("subproject", help="nova-common or a driver name (libvirt, xen, ...)")
    add_format_argument(plan)
    plan.add_argument("--no-pantsd", action="store_true", help="do not use (or start) the Pants daemon")
    c = sub.add_parser("cut", help="release the subproject: version, notes, wheel checks, tests, commit, tag")
    c.add_argument("subproject", help="nova-common or a driver name (libvirt, xen, ...)")
    c.add_argument("--version", help="the new version (default: suggested by the fragments' categories)")
    c.add_argument("--dry-run", action="store_true", help="print every step and the notes; change nothing")
    c.add_argument("--force", action="store_true", help="release even when nothing changed")
    c.add_argument("--no-pantsd", action="store_true", help="do not use (or start) the Pants daemon")
    add_format_argument(c)


def _closure(root: Path, name: str, pantsd: bool) -> Closure:
    """The Pants graph's closure, loaded on first use (refusals that need no graph stay instant)."""
    if name == CORE:
        return lambda _: set()  # nova-common's plan is its own directory
    graphs: list[Graph] = []

    def closure(path: str) -> set[str]:
        if not graphs:
            graphs.append(load_graph(root, pantsd=pantsd))
        return graphs[0].closure(path)

    return closure


def run(args: argparse.Namespace) -> int:
    repo = Repository(args.repo)
    sub = find_subproject(repo.root, args.subproject)
    closure = _closure(repo.root, sub.name, not args.no_pantsd)
    if args.action == "plan":
        plan = compute_plan(repo, sub, closure)
        if args.format == "json":
            print_json("release plan", plan.to_json())
            return 0
        print(f"{plan.distribution} {plan.version}, last release: {plan.last_tag or '(none)'}")
        print(f"suggested: {plan.suggested} ({plan.bump})")
        print(f"commits ({len(plan.commits)}):")
        for commit, subject in plan.commits:
            print(f"  {commit}  {subject}")
        print(f"files ({len(plan.files)}):")
        for path in plan.files:
            print(f"  {path}")
        print(f"fragments ({len(plan.fragments)}):")
        for f in plan.fragments:
            print(f"  {f.category:<9} {f.path}")
        return 0
    if args.action != "cut":
        raise ToolError(f"unknown action {args.action!r}")
    out = repo.root / "dist" / "release"
    with (
        tempfile.TemporaryDirectory(prefix="nova-split-release-") as scratch,
        Progress(f"release cut {sub.name}") as progress,
    ):
        result = cut(
            repo,
            sub,
            closure,
            PantsToolchain(pantsd=not args.no_pantsd),
            out / sub.name,
            Path(scratch),
            version=args.version,
            dry_run=args.dry_run,
            force=args.force,
            say=_reporter(progress, json_output=args.format == "json"),
        )
    if args.format == "json":
        print_json("release cut", {**asdict(result), "wheel": str(result.wheel) if result.wheel else None})
    return 0


def _reporter(progress: Progress, json_output: bool) -> Callable[[str], None]:
    """What ``cut`` says: printed (on stderr under ``--format json``); its steps advance ``progress``."""

    def say(line: str) -> None:
        if re.match(r"  \d+\. ", line):
            progress.total = (progress.total or 0) + 1
        elif line.startswith("-- "):
            progress.advance(line[3:], steps=0 if progress.item == "" else 1)
        progress.echo(line, sys.stderr if json_output else sys.stdout)

    return say
