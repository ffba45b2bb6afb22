"""release: plan and cut a release of one subproject (nova-common or a driver), on its own.

  release plan SUBPROJECT [--format json]   what changed since its last tag (its own files, the
                                            nova-common files in its dependency closure, its
                                            lockfile), its pending notes, the suggested version
  release cut SUBPROJECT [--version X.Y.Z] [--dry-run] [--force]
                                            bump subproject.toml and regenerate derived files,
                                            assemble CHANGELOG.md with towncrier, run its tests,
                                            build and install-check the wheel, commit, then tag
                                            <distribution>-<version> and publish the wheel
  release cut SUBPROJECT --continue | --abort
                                            finish, or undo, a cut that was killed

Tags are per distribution (nova-libvirt-1.4.0, nova-common-1.1.0), so subprojects release
independently. A cut that fails, or gets Ctrl-C or SIGTERM, restores the state before it. A cut
killed outright (SIGKILL, power loss) left its progress in .git/nova-split-release/: the next
command says in one line whether to --continue or --abort it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nova_split_tools.errors import ToolError
from nova_split_tools.graph import Graph, load_graph
from nova_split_tools.release import Closure, abort, compute_plan, cut, find_subproject, resume
from nova_split_tools.release_pants import PantsToolchain
from nova_split_tools.repo import Repository
from nova_split_tools.subprojects import CORE

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    plan = sub.add_parser("plan", help="what changed since the subproject's last release")
    plan.add_argument("subproject", help="nova-common or a driver name (libvirt, xen, ...)")
    plan.add_argument("--format", choices=("table", "json"), default="table")
    plan.add_argument("--no-pantsd", action="store_true", help="do not use (or start) the Pants daemon")
    c = sub.add_parser("cut", help="release the subproject: version, notes, wheel checks, tests, commit, tag")
    c.add_argument("subproject", help="nova-common or a driver name (libvirt, xen, ...)")
    c.add_argument("--version", help="the new version (default: suggested by the fragments' categories)")
    c.add_argument("--dry-run", action="store_true", help="print every step and the notes; change nothing")
    c.add_argument("--force", action="store_true", help="release even when nothing changed")
    c.add_argument("--no-pantsd", action="store_true", help="do not use (or start) the Pants daemon")
    resume = c.add_mutually_exclusive_group()
    resume.add_argument("--continue", dest="resume", action="store_true", help="finish a cut that was killed")
    resume.add_argument("--abort", action="store_true", help="undo a cut that was killed: the state before it")


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
            print(json.dumps(plan.to_json(), indent=2))
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
    out = repo.root / "dist" / "release" / sub.name
    toolchain = PantsToolchain(pantsd=not args.no_pantsd)
    if args.resume or args.abort:
        given = [f for f, v in (("--version", args.version), ("--dry-run", args.dry_run), ("--force", args.force)) if v]
        if given:
            raise ToolError(f"{given[0]} does not go with --continue/--abort (they finish or undo the recorded cut)")
        if args.abort:
            abort(repo, sub)
        else:
            resume(repo, sub, toolchain, out)
        return 0
    cut(repo, sub, closure, toolchain, out, version=args.version, dry_run=args.dry_run, force=args.force)
    return 0
