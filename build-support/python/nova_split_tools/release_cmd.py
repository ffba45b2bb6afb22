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
import re
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from nova_common_cli.progress import Progress
from nova_split_tools.errors import ToolError
from nova_split_tools.graph import Graph, load_graph
from nova_split_tools.output import add_format_argument, print_json
from nova_split_tools.release import (
    Closure,
    CutResult,
    abort,
    compute_plan,
    cut,
    find_subproject,
    pending_refusal,
    resume,
)
from nova_split_tools.release_pants import PantsToolchain
from nova_split_tools.release_state import StateDir
from nova_split_tools.repo import Repository
from nova_split_tools.subprojects import CORE

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    plan = sub.add_parser(
        "plan",
        help="what changed since the subproject's last release",
        description="What changed in SUBPROJECT since its last tag: its own files, the nova-common files in"
        " its dependency closure and its lockfile; its pending release notes; and the version they suggest."
        " Changes nothing.",
    )
    plan.add_argument("subproject", help="nova-common or a driver name (libvirt, xen, ...)")
    add_format_argument(plan)
    plan.add_argument("--no-pantsd", action="store_true", help="do not use (or start) the Pants daemon")
    c = sub.add_parser(
        "cut",
        help="release the subproject: version, notes, wheel checks, tests, commit, tag",
        description="Release SUBPROJECT: bump its subproject.toml and regenerate derived files, assemble"
        " CHANGELOG.md from its notes with towncrier, run its tests, build and install-check its wheel,"
        " commit, then tag <distribution>-<version>. A cut that fails, or gets Ctrl-C or SIGTERM, restores"
        " the state before it; one killed outright is finished with --continue or undone with --abort.",
    )
    c.add_argument("subproject", help="nova-common or a driver name (libvirt, xen, ...)")
    c.add_argument("--version", help="the new version (default: suggested by the fragments' categories)")
    c.add_argument("--dry-run", action="store_true", help="print every step and the notes; change nothing")
    c.add_argument("--force", action="store_true", help="release even when nothing changed")
    c.add_argument("--no-pantsd", action="store_true", help="do not use (or start) the Pants daemon")
    resume = c.add_mutually_exclusive_group()
    resume.add_argument("--continue", dest="resume", action="store_true", help="finish a cut that was killed")
    resume.add_argument("--abort", action="store_true", help="undo a cut that was killed: the state before it")
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
        # A cut running or interrupted in this clone changes what the plan sees (a bumped version, an
        # untagged release commit): say so, with the command that settles it.
        pending = pending_refusal(StateDir(repo.root), repo)
        if args.format == "json":
            print_json("release plan", {**plan.to_json(), "pending_cut": pending})
            return 0
        if pending:
            print(f"note: {pending}; this plan is of the tree as it is now", file=sys.stderr)
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
    json_output = args.format == "json"
    if args.resume or args.abort:
        given = [f for f, v in (("--version", args.version), ("--dry-run", args.dry_run), ("--force", args.force)) if v]
        if given:
            raise ToolError(f"{given[0]} does not go with --continue/--abort (they finish or undo the recorded cut)")
    with Progress(f"release cut {sub.name}") as progress:
        say = _reporter(progress, json_output)
        if args.abort:
            abort(repo, sub, say=say)
            if json_output:
                print_json("release cut", {"aborted": True, "subproject": sub.name})
            return 0
        result: CutResult
        if args.resume:
            result = resume(repo, sub, toolchain, out, say=say)
        else:
            result = cut(
                repo,
                sub,
                closure,
                toolchain,
                out,
                version=args.version,
                dry_run=args.dry_run,
                force=args.force,
                say=say,
            )
    if json_output:
        print_json("release cut", {**asdict(result), "wheel": str(result.wheel) if result.wheel else None})
    return 0


def _reporter(progress: Progress, json_output: bool) -> Callable[[str], None]:
    """What ``cut``, ``resume`` and ``abort`` say: printed (on stderr under ``--format json``); the
    numbered plan sets ``progress``'s total and each ``-- STEP done`` advances it."""

    def say(line: str) -> None:
        if re.match(r"  \d+\. ", line):
            progress.total = (progress.total or 0) + 1
        elif line.startswith("-- ") and line.endswith(" done"):
            progress.advance(line[3:])
        progress.echo(line, sys.stderr if json_output else sys.stdout)

    return say
