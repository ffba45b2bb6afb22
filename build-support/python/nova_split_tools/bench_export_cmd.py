"""bench-export: export time on a generated 10,000-commit history, against git subtree split.

Writes a monorepo history with one ``git fast-import`` (``synthetic_history``: nova-common and
five drivers; one-driver, core-only and cross-subproject commits, renames, moves between
subprojects, deletions, feature branches merged with non-fast-forward merges), then times in one
run: the first ``export`` of the driver into a fresh destination, ``--new`` more commits of the
same mix, the incremental export into the same destination, and ``git subtree split
--prefix=drivers/<driver> HEAD`` before and after the new commits. The split runs without
``--rejoin`` (which would commit a merge to the monorepo), so its second run redoes the whole
history. Figures, not assertions: ratios are against git subtree split in the same run.

Then git checks the export: every exported commit's tree must be the driver's subtree of the
monorepo commit its ``Monorepo-Commit:`` trailer names (a root LICENSE the subtree lacks is
allowed), and the incremental export must keep the first export's commits. A failed check is an
error after the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from nova_common_cli.args import start_without_interrupts
from nova_split_tools.errors import CheckFailed, ToolError
from nova_split_tools.export import check_export, export
from nova_split_tools.export_history import ROOT_FILES
from nova_split_tools.output import add_format_argument, print_json
from nova_split_tools.proc import git
from nova_split_tools.synthetic_history import DRIVERS, SyntheticHistory
from nova_split_tools.table import print_table

__all__ = ["add_arguments", "run"]

T = TypeVar("T")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--commits", type=int, default=10000, help="commits to generate (default: %(default)s)")
    parser.add_argument("--new", type=int, default=100, help="commits added before the incremental export")
    parser.add_argument("--driver", choices=DRIVERS, default="xen", help="the driver to export (default: xen)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="generate in DIR (new or empty) and keep it")
    parser.add_argument("--seed", type=int, default=0, help="the history's seed (default: %(default)s)")
    parser.add_argument("--no-subtree", action="store_true", help="skip git subtree split (slow on big histories)")
    add_format_argument(parser)


def _timed(label: str, fn: Callable[[], T]) -> tuple[T, float]:
    """Run ``fn``, printing the label, a heartbeat every 30 s and the time taken."""
    print(f"{label} ...", flush=True)
    start, done = time.perf_counter(), threading.Event()

    def heartbeat() -> None:
        while not done.wait(30):
            print(f"  still running, {time.perf_counter() - start:.0f}s", flush=True)

    beat = start_without_interrupts(threading.Thread(target=heartbeat, daemon=True))
    try:
        result = fn()
    finally:
        done.set()
        beat.join()
    seconds = time.perf_counter() - start
    print(f"  {seconds:.2f}s", flush=True)
    return result, seconds


def _has_subtree() -> bool:
    return (
        shutil.which("git-subtree") is not None
        or (Path(git(Path.cwd(), "--exec-path").strip()) / "git-subtree").exists()
    )


def _count(root: Path, *args: str) -> int:
    return int(git(root, "rev-list", "--count", *args).strip())


def run(args: argparse.Namespace) -> int:
    if args.format != "json":
        return _run(args, {})
    figures: dict[str, object] = {}
    try:
        with contextlib.redirect_stdout(sys.stderr):  # the progress and the table: stderr, for people
            code = _run(args, figures)
    except CheckFailed:
        print_json("bench-export", figures)  # on stdout: the figures, with the problems, then the one line
        raise
    print_json("bench-export", figures)
    return code


def _run(args: argparse.Namespace, figures: dict[str, object]) -> int:
    """The benchmark; prints for people and fills ``figures`` (the ``--format json`` document)."""
    if args.commits < 20 or args.new < 1:
        raise ToolError("--commits must be at least 20 and --new at least 1")
    keep: Path | None = args.keep
    if keep is not None and keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        raise ToolError(f"--keep {keep} exists and is not an empty directory; pass a new one")
    subtree = not args.no_subtree and _has_subtree()
    prefix = f"drivers/{args.driver}"
    with tempfile.TemporaryDirectory(prefix="nova-split-bench-export-") as tmp:
        work = keep if keep is not None else Path(tmp)
        mono, dest = work / "monorepo", work / f"export-{args.driver}"
        history = SyntheticHistory(args.seed, focus=args.driver)
        rows: list[tuple[str, float | None, float | None]] = []
        split_cmd = ["subtree", "split", "-q", f"--prefix={prefix}", "HEAD"]

        def split() -> str:
            return git(mono, *split_cmd).strip()

        _, gen = _timed(
            f"generating {args.commits} commits (one git fast-import)", lambda: history.write(mono, args.commits)
        )
        mono_before = _count(mono, "HEAD")
        first, t_first = _timed(f"first export of {args.driver}", lambda: export(mono, args.driver, dest))
        first_tip = git(dest, "rev-parse", "main").strip()
        split1, t_split1 = _timed("git subtree split (a shell script)", split) if subtree else ("", None)
        _, gen_new = _timed(f"adding {args.new} commits (git fast-import)", lambda: history.write(mono, args.new))
        new, t_new = _timed(f"incremental export of {args.driver}", lambda: export(mono, args.driver, dest))
        split2, t_split2 = _timed("git subtree split again", split) if subtree else ("", None)
        kept = git(dest, "merge-base", first_tip, "main").strip() == first_tip
        checked, problems = check_export(mono, dest, prefix)
        # The export's commits are the ones git lists with --full-history --simplify-merges for the
        # driver and the root files it carries: its default simplification would also drop a side
        # branch whose changes a merge discarded (the export, like git subtree split, keeps both).
        selection = ["--full-history", "--simplify-merges", "HEAD", "--", prefix, *ROOT_FILES]
        listed = set(git(mono, "rev-list", *selection).split())
        origins = set(git(dest, "log", "--format=%(trailers:key=Monorepo-Commit,valueonly)", "main").split())
        if listed != origins:
            problems.append(
                f"the export's commits differ from `git rev-list {' '.join(selection)}`: "
                f"{len(origins - listed)} extra, {len(listed - origins)} missing"
            )
        if not kept:
            problems.append(f"the incremental export dropped the first export's tip {first_tip[:12]}")

        rows += [(f"generate {args.commits} commits (fast-import + checkout)", gen, None)]
        rows += [(f"first export of {args.driver} ({len(first)} commits)", t_first, t_split1)]
        rows += [(f"git subtree split --prefix={prefix}", t_split1, None)]
        rows += [(f"generate {args.new} more commits", gen_new, None)]
        rows += [(f"incremental export (+{len(new)} commits)", t_new, t_split2)]
        rows += [("git subtree split again (no --rejoin: whole history)", t_split2, None)]
        print()
        table = [("measure", "seconds", "ratio vs git subtree split (same run)")]
        for name, secs, base in rows:
            shown = f"{secs:.2f}" if secs is not None else "not available" if not args.no_subtree else "skipped"
            table.append((name, shown, f"{secs / base:.3f}x" if secs is not None and base else ""))
        print_table(table, right={1})
        print()
        mono_after, merges = _count(mono, "HEAD"), _count(mono, "--merges", "HEAD")
        print(f"monorepo: {mono_before} commits, then {mono_after} ({merges} merges); ", end="")
        print(
            f"{_count(mono, 'HEAD', '--', prefix)} touch {prefix} (git log's default history simplification), ", end=""
        )
        print(f"{len(listed)} with --full-history --simplify-merges and {', '.join(ROOT_FILES)}")
        print(f"export: {len(first)} commits, then +{len(new)} = {_count(dest, 'main')} (first tip kept: {kept})")
        if subtree:
            print(f"git subtree split: {_count(mono, split1)} commits, then {_count(mono, split2)}")
            print("(git subtree split runs without --rejoin, which would commit a merge to the monorepo)")
        else:
            print("git subtree split: " + ("skipped (--no-subtree)" if args.no_subtree else "not available"))
        print(f"check: {checked} exported commit(s) against their Monorepo-Commit's {prefix}: ", end="")
        print(f"{len(problems)} problem(s)")
        for problem in problems[:10]:
            print(f"  {problem}")
        if keep is not None:
            print(f"kept: {mono} and {dest}")
        figures.update(
            {
                "commits": args.commits,
                "new": args.new,
                "driver": args.driver,
                "seed": args.seed,
                "seconds": {
                    "generate": round(gen, 3),
                    "first_export": round(t_first, 3),
                    "subtree_split": None if t_split1 is None else round(t_split1, 3),
                    "generate_new": round(gen_new, 3),
                    "incremental_export": round(t_new, 3),
                    "subtree_split_again": None if t_split2 is None else round(t_split2, 3),
                },
                "ratio_vs_subtree_split": {
                    "first_export": round(t_first / t_split1, 4) if t_split1 else None,
                    "incremental_export": round(t_new / t_split2, 4) if t_split2 else None,
                },
                "monorepo_commits": {"before": mono_before, "after": mono_after, "merges": merges},
                "export_commits": {"first": len(first), "new": len(new), "total": _count(dest, "main")},
                "first_tip_kept": kept,
                "checked": checked,
                "problems": problems,
                "kept_dirs": [str(mono), str(dest)] if keep is not None else None,
            }
        )
    if problems:
        raise CheckFailed(f"the export failed its check ({len(problems)} problem(s), listed above)")
    return 0
