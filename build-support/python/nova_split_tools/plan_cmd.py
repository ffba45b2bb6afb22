"""plan: which subprojects' CI a change runs, whether each votes, and why.

Input is a git revision range ``A..B``: the changes on ``B`` since it left ``A`` (from their
merge base, as ``git diff A...B``; default: main..HEAD), or the changed paths themselves
(``--paths-from FILE``, ``-`` for stdin) for CI systems that already know them; a listed path
counts as changed as a whole (no member-level narrowing, which needs both versions).
Output is a table, JSON (``--format json``) or a GitHub Actions matrix (``--format github``).
``--run`` then runs ``pants test`` on exactly the planned tests.

A Python change confined to function bodies is narrowed with the test-impact map committed at the
base revision (``nova-split impact``, docs/change-aware-ci.md#test-impact); ``--no-impact`` plans
from the build graph alone.

JSON: ``base``, ``head``, ``run_all``, ``run_all_reasons`` and, per subproject under
``subprojects``: ``run``, ``voting``, ``why`` (as before), ``paths`` (how it was reached, skipped
paths included: ``own``, ``api``, ``end-to-end``) and ``tests`` (``"all"`` or the test files
``--run`` runs; ``[]`` when it does not run); with ``--uncovered-by-zuul``, ``uncovered``: the
planned subprojects that no job of ``zuul.d/`` starts for the change (``subprojects``), their Pants
``specs`` and whether one of them votes (``voting``): what the Zuul guard job runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from nova_split_tools import ci_zuul
from nova_split_tools.changes import add_change_arguments, parse_range, read_paths, texts_between
from nova_split_tools.errors import ToolError
from nova_split_tools.graph import graph_at, load_graph
from nova_split_tools.impact import impact_at
from nova_split_tools.output import add_format_argument, print_json
from nova_split_tools.plan import Decision, Plan, compute_plan
from nova_split_tools.proc import passthrough
from nova_split_tools.repo import Change, Repository
from nova_split_tools.subprojects import load_subprojects, tool_resolves
from nova_split_tools.table import print_table

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_change_arguments(parser)
    add_format_argument(parser, ("table", "json", "github"))
    parser.add_argument("--run", action="store_true", help="run 'pants test' on exactly the planned tests")
    parser.add_argument("--no-pantsd", action="store_true", help="do not use (or start) the Pants daemon")
    parser.add_argument(
        "--no-impact",
        action="store_true",
        help="plan from the build graph alone, without the test-impact map (nova-split impact record)",
    )
    parser.add_argument(
        "--uncovered-by-zuul",
        action="store_true",
        help="(JSON) add 'uncovered': the planned subprojects no job of zuul.d/ starts for the change, "
        "their test specs and whether they vote (what the Zuul guard job runs)",
    )


def run(args: argparse.Namespace) -> int:
    repo = Repository(args.repo)
    subprojects = load_subprojects(repo.root)
    if args.paths_from:
        if args.revisions:
            raise ToolError("give either a revision range or --paths-from, not both")
        changes = read_paths(repo.root, args.paths_from)
        base, head = "HEAD", None
    else:
        base, head = parse_range(repo, args.revisions)
        if head is None:
            dirty = repo.dirty_paths()
            if dirty:
                shown = ", ".join(dirty[:3]) + (f" and {len(dirty) - 3} more" if len(dirty) > 3 else "")
                raise ToolError(
                    f"the work tree has uncommitted changes ({shown}); commit or stash them, "
                    "or plan them as paths: git status --porcelain | cut -c4- | nova-split plan --paths-from -"
                )
        changes = repo.changes(base, head or "HEAD")
    head_graph = (
        load_graph(repo.root, pantsd=not args.no_pantsd, repo=None if args.paths_from else repo)
        if head is None
        else graph_at(repo, head)
    )
    tools = tool_resolves(repo.root)
    plan = compute_plan(
        changes,
        subprojects,
        head_graph,
        lambda: graph_at(repo, base),
        tool_resolves=tools,
        # Paths alone say nothing about what changed in them: a listed file changed as a whole.
        texts=None if args.paths_from else texts_between(repo, base, head),
        impact=None if args.paths_from or args.no_impact else impact_at(repo, base, head_graph, subprojects, tools),
    )
    by_name = {s.name: s for s in subprojects}
    if args.uncovered_by_zuul and args.format != "json":
        raise ToolError("--uncovered-by-zuul goes with --format json")
    if args.format == "json":
        document = _as_json(plan, repo, base, head)
        if args.uncovered_by_zuul:
            document["uncovered"] = _uncovered(plan, repo, by_name, [c.path for c in changes])
        print_json("plan", document)
    elif args.format == "github":
        print(json.dumps(_as_matrix(plan, by_name)))
    else:
        _print_table(plan, changes)
    if not args.run:
        return 0
    specs = plan.test_specs(by_name)
    if not specs:
        print("nothing to run", file=sys.stderr)
        return 0
    return passthrough([str(repo.root / "pants"), "test", *specs], repo.root)


def _as_json(plan: Plan, repo: Repository, base: str, head: str | None) -> dict[str, Any]:
    return {
        "base": base,
        "head": head or repo.resolve("HEAD"),
        "run_all": plan.run_all,
        "run_all_reasons": plan.run_all_reasons,
        "subprojects": {
            n: {
                "run": d.run,
                "voting": d.voting,
                "why": d.why,
                "paths": sorted(d.paths),
                "tests": "all" if d.run and (d.all_tests or not d.tests) else sorted(d.tests) if d.run else [],
            }
            for n, d in plan.subprojects.items()
        },
    }


def _uncovered(plan: Plan, repo: Repository, by_name: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """What the Zuul guard job runs: the planned subprojects no job's file matchers start on
    ``paths`` (:func:`ci_zuul.uncovered`), their test specs, and whether any of them votes."""
    config = repo.root / ci_zuul.PATH
    if not config.is_file():
        raise ToolError(f"no {ci_zuul.PATH} to compare with: generate it with 'nova-split ci-config'")
    left = sorted(ci_zuul.uncovered(config.read_text(), plan, paths))
    specs = sorted({s for n in left for s in _planned_specs(plan.subprojects[n], by_name[n].path)})
    return {"subprojects": left, "specs": specs, "voting": any(plan.subprojects[n].voting for n in left)}


def _planned_specs(decision: Decision, path: str) -> list[str]:
    """Pants specs for exactly one subproject's planned tests: its test files, or ``<path>::`` for all."""
    return [f"{path}::"] if decision.all_tests or not decision.tests else sorted(decision.tests)


def _as_matrix(plan: Plan, by_name: dict[str, Any]) -> dict[str, Any]:
    """``strategy.matrix`` for GitHub Actions, one entry per subproject that runs: ``subproject``,
    ``path``, ``voting`` (pair ``continue-on-error: ${{ !matrix.voting }}``) and ``tests``, the
    Pants specs of exactly its planned tests (``./pants test`` them)."""
    include = [
        {
            "subproject": n,
            "path": by_name[n].path,
            "voting": d.voting,
            "tests": _planned_specs(d, by_name[n].path),
        }
        for n, d in plan.subprojects.items()
        if d.run
    ]
    return {"include": include}


def _print_table(plan: Plan, changes: list[Change]) -> None:
    rows = [("subproject", "run", "voting", "why")]
    for name, d in plan.subprojects.items():
        why = d.why[0] if d.why else ("" if not plan.docs_only else "documentation only")
        if len(d.why) > 1:
            why += f" (+{len(d.why) - 1} more)"
        rows.append((name, "yes" if d.run else "no", "yes" if d.voting else "no", why))
    print_table(rows)
    if plan.run_all:
        print("\neverything runs: " + "; ".join(plan.run_all_reasons))
    print(f"\n{len(changes)} changed path(s)")
