"""plan: which subprojects' CI a change runs, whether each votes, and why.

Input is a git revision range (default: from the merge base with the main branch to HEAD), or
the changed paths themselves (``--paths-from FILE``, ``-`` for stdin) for CI systems that
already know them. Output is a table, JSON (``--format json``) or a GitHub Actions matrix
(``--format github``). ``--run`` then runs ``pants test`` on exactly the planned tests.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from nova_split_tools.errors import ToolError
from nova_split_tools.graph import Graph, load_graph
from nova_split_tools.plan import Plan, compute_plan
from nova_split_tools.repo import Change, Repository
from nova_split_tools.subprojects import load_subprojects

__all__ = ["add_arguments", "add_change_arguments", "parse_range", "read_paths", "run"]


def add_change_arguments(parser: argparse.ArgumentParser) -> None:
    """How a command is told what changed: a revision range, or paths (``--paths-from``)."""
    parser.add_argument(
        "revisions", nargs="?", metavar="BASE[..HEAD]", help="revision range (default: merge base with main..HEAD)"
    )
    parser.add_argument("--paths-from", metavar="FILE", help="read changed paths from FILE, one per line ('-': stdin)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_change_arguments(parser)
    parser.add_argument("--format", choices=("table", "json", "github"), default="table")
    parser.add_argument("--run", action="store_true", help="run 'pants test' on exactly the planned tests")
    parser.add_argument("--no-pantsd", action="store_true", help="do not use (or start) the Pants daemon")


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
    head_graph = load_graph(repo.root, pantsd=not args.no_pantsd) if head is None else _graph_at(repo, head)
    plan = compute_plan(changes, subprojects, head_graph, lambda: _graph_at(repo, base))
    by_name = {s.name: s for s in subprojects}
    if args.format == "json":
        print(json.dumps(_as_json(plan, repo, base, head), indent=2))
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
    return subprocess.run([str(repo.root / "pants"), "test", *specs], cwd=repo.root).returncode


def parse_range(repo: Repository, text: str | None) -> tuple[str, str | None]:
    if not text:
        return repo.default_base(), None
    base, sep, head = text.partition("..")
    base_id = repo.resolve(base)
    if not sep or not head:
        return base_id, None
    head_id = repo.resolve(head)
    return base_id, (None if head_id == repo.resolve("HEAD") else head_id)


def read_paths(root: Path, source: str) -> list[Change]:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text()
    except OSError as e:
        raise ToolError(f"cannot read --paths-from {source}: {e.strerror}") from None
    changes = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        path = Path(line)
        full = path if path.is_absolute() else root / path
        try:
            rel = full.resolve().relative_to(root.resolve())
        except ValueError:
            raise ToolError(f"{line} is outside the repository at {root}; list paths relative to it") from None
        rel_posix = PurePosixPath(rel).as_posix()
        changes.append(Change(path=rel_posix, status="M" if full.exists() else "D"))
    if not changes:
        raise ToolError(f"--paths-from {source} listed no paths")
    return changes


def _graph_at(repo: Repository, rev: str) -> Graph:
    """The graph of another revision, from a temporary worktree (cached per commit)."""
    commit = repo.resolve(rev)
    cache = Path.home() / ".cache" / "nova-split" / "graphs" / f"{commit}.json"
    if cache.exists():
        return Graph.from_peek(json.loads(cache.read_text()))
    with tempfile.TemporaryDirectory(prefix="nova-split-graph-") as tmp:
        tree = Path(tmp) / "tree"
        repo.git.git.worktree("add", "--detach", str(tree), commit)
        try:
            graph = load_graph(tree, pantsd=False)
            out = json.dumps(graph.to_peek())
        finally:
            repo.git.git.worktree("remove", "--force", str(tree))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(out)
    return graph


def _as_json(plan: Plan, repo: Repository, base: str, head: str | None) -> dict[str, Any]:
    return {
        "base": base,
        "head": head or repo.resolve("HEAD"),
        "run_all": plan.run_all,
        "run_all_reasons": plan.run_all_reasons,
        "subprojects": {n: {"run": d.run, "voting": d.voting, "why": d.why} for n, d in plan.subprojects.items()},
    }


def _as_matrix(plan: Plan, by_name: dict[str, Any]) -> dict[str, Any]:
    """``strategy.matrix`` for GitHub Actions; pair ``continue-on-error: ${{ !matrix.voting }}``."""
    include = [
        {"subproject": n, "path": by_name[n].path, "voting": d.voting} for n, d in plan.subprojects.items() if d.run
    ]
    return {"include": include}


def _print_table(plan: Plan, changes: list[Change]) -> None:
    rows = [("subproject", "run", "voting", "why")]
    for name, d in plan.subprojects.items():
        why = d.why[0] if d.why else ("" if not plan.docs_only else "documentation only")
        if len(d.why) > 1:
            why += f" (+{len(d.why) - 1} more)"
        rows.append((name, "yes" if d.run else "no", "yes" if d.voting else "no", why))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3])
    if plan.run_all:
        print("\neverything runs: " + "; ".join(plan.run_all_reasons))
    print(f"\n{len(changes)} changed path(s)")
