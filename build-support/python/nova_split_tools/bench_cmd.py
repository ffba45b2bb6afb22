"""bench: how fast planning is, and what the plan saves, measured in one run.

In a scratch clone with a one-file driver change committed on top, it times (median of
``--repeats`` runs): the floor ``git diff --name-only``, Pants' own
``list --changed-since --changed-dependents=transitive``, and ``nova-split plan`` -- cold
(no Pants daemon) and warm (daemon running) -- then the wall time of the planned CI run against
the full suite (both ``pants test --force``, after a warm-up). Figures, not assertions: the
ratios are against baselines measured in the same run, since these machines are noisy.

``--replay`` instead replays a change mix through the plan (:mod:`~nova_split_tools.replay`):
categories of commits with shares (``--mix``, default nova's measured mix), files sampled from
this repository, and prints the expected driver CIs per commit against 2014's baseline (every
commit ran all five drivers' CI). No test runs; it reads the build graph once.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from nova_common_cli.progress import Progress
from nova_split_tools.errors import ToolError
from nova_split_tools.graph import load_graph
from nova_split_tools.output import add_format_argument, print_json
from nova_split_tools.plan import compute_plan
from nova_split_tools.proc import git
from nova_split_tools.proc import run as run_command
from nova_split_tools.replay import (
    BASELINE,
    CATEGORIES,
    NOVA_DRIVER_SHARES,
    NOVA_MIX,
    check_driver_shares,
    parse_shares,
    replay,
    scaling_note,
)
from nova_split_tools.repo import Repository
from nova_split_tools.subprojects import load_subprojects, tool_resolves
from nova_split_tools.table import print_table

__all__ = ["add_arguments", "run"]

CHANGED = "drivers/libvirt/nova_libvirt/config.py"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per warm figure (default: %(default)s)")
    parser.add_argument("--skip-ci-run", action="store_true", help="only time the planning, not the test runs")
    add_format_argument(parser)
    replay_args = parser.add_argument_group("change-mix replay (--replay)")
    replay_args.add_argument(
        "--replay", action="store_true", help="replay a change mix through the plan instead of timing"
    )
    replay_args.add_argument(
        "--mix",
        default=_shares(NOVA_MIX),
        metavar="CAT=SHARE,...",
        help=f"category shares in percent (categories: {', '.join(CATEGORIES)}; default: nova's mix %(default)s)",
    )
    replay_args.add_argument(
        "--driver-shares",
        default=_shares(NOVA_DRIVER_SHARES),
        metavar="DRIVER=SHARE,...",
        help="shares of the one-driver commits; unnamed drivers split the rest equally (default: %(default)s)",
    )
    replay_args.add_argument("--commits", type=int, default=40, help="sampled commits per category (default: 40)")
    replay_args.add_argument("--seed", type=int, default=0, help="seed of the sampled files (default: 0)")


def _shares(shares: dict[str, float]) -> str:
    return ",".join(f"{k}={v:g}" for k, v in shares.items())


#: The command runs this many timed steps (each ``_time`` call), for the progress ETA.
_STEPS, _STEPS_CI = 6, 3
_progress = Progress("bench", show=False)


def _time(cmd: list[str], cwd: Path, repeats: int) -> float:
    _progress.status(" ".join(Path(cmd[0]).name if i == 0 else a for i, a in enumerate(cmd[:4])))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_command(cmd, cwd)
        samples.append(time.perf_counter() - start)
    _progress.advance()
    return statistics.median(samples)


def run(args: argparse.Namespace) -> int:
    global _progress
    if args.replay:
        return _replay(Repository(args.repo), args)
    with Progress("bench: steps", total=_STEPS + (0 if args.skip_ci_run else _STEPS_CI)) as _progress:
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    repo = Repository(args.repo)
    json_output = args.format == "json"
    figures: list[dict[str, object]] = []
    if args.repeats < 1:
        raise ToolError("--repeats must be at least 1")
    with tempfile.TemporaryDirectory(prefix="nova-split-bench-") as tmp:
        clone = Path(tmp) / "clone"
        git(Path(tmp), "clone", "-q", str(repo.root), str(clone))
        (clone / CHANGED).write_text((clone / CHANGED).read_text() + "# bench: a one-line driver change\n")
        env = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@nova-split.invalid"}
        env |= {"GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@nova-split.invalid"}
        git(clone, "commit", "-qam", "bench change", env=env)
        pants = str(clone / "pants")
        tool = [sys.executable, "-m", "nova_split_tools", "--repo", str(clone)]
        listing = ["list", "--changed-since=HEAD~1", "--changed-dependents=transitive"]
        rows: list[tuple[str, float, float | None]] = []
        floor = _time(["git", "diff", "--name-only", "HEAD~1"], clone, args.repeats)
        rows.append(("git diff --name-only (floor)", floor, None))
        cold_list = _time([pants, "--no-pantsd", *listing], clone, 1)
        cold_plan = _time([*tool, "plan", "HEAD~1", "--no-pantsd"], clone, 1)
        rows += [("pants list --changed-since, cold", cold_list, None), ("nova-split plan, cold", cold_plan, cold_list)]
        _time([pants, "--version"], clone, 1)  # start the daemon
        warm_list = _time([pants, *listing], clone, args.repeats)
        warm_plan = _time([*tool, "plan", "HEAD~1"], clone, args.repeats)
        rows += [("pants list --changed-since, warm", warm_list, None), ("nova-split plan, warm", warm_plan, warm_list)]
        figures += [
            {"measure": name, "seconds": round(secs, 3), "ratio": round(secs / (base or floor), 3)}
            for name, secs, base in rows
        ]
        if not json_output:
            print_table(
                [("measure", "seconds", "ratio")]
                + [
                    (
                        name,
                        f"{secs:.2f}",
                        f"{secs / base:.2f}x of pants list" if base else f"{secs / floor:.0f}x of git diff",
                    )
                    for name, secs, base in rows
                ],
                right={1},
            )
        if args.skip_ci_run:
            if json_output:
                print_json("bench", {"figures": figures})
            return 0
        clone_repo = Repository(clone)
        subprojects = load_subprojects(clone)
        plan = compute_plan(
            clone_repo.changes("HEAD~1", "HEAD"),
            subprojects,
            load_graph(clone),
            lambda: load_graph(clone),
            tool_resolves=tool_resolves(clone),
        )
        specs = plan.test_specs({s.name: s for s in subprojects})
        _time([pants, "test", "::"], clone, 1)  # warm-up: build every test's environment once
        planned_run = _time([pants, "test", "--force", *specs], clone, 1)
        full_run = _time([pants, "test", "--force", "::"], clone, 1)
        label = f"planned CI run ({' '.join(specs)})"
        if json_output:
            figures += [
                {"measure": label, "seconds": round(planned_run, 3), "ratio": round(planned_run / full_run, 3)},
                {"measure": "full suite (pants test --force ::)", "seconds": round(full_run, 3), "ratio": None},
            ]
            print_json("bench", {"figures": figures})
            return 0
        print_table(
            [
                ("measure", "seconds", "ratio"),
                (label, f"{planned_run:.2f}", f"{planned_run / full_run:.2f}x of the full suite"),
                ("full suite (pants test --force ::)", f"{full_run:.2f}", ""),
            ],
            right={1},
        )
    return 0


def _replay(repo: Repository, args: argparse.Namespace) -> int:
    mix = parse_shares(args.mix, CATEGORIES, "--mix")
    if note := scaling_note(mix, "--mix"):
        print(note, file=sys.stderr)
    driver_shares = (
        parse_shares(args.driver_shares, None, "--driver-shares", all_zero=True) if args.driver_shares else {}
    )
    check_driver_shares(driver_shares)  # before the graph is read
    if args.commits < 1:
        raise ToolError("--commits must be at least 1")
    subprojects = load_subprojects(repo.root)
    drivers = sorted(s.name for s in subprojects if s.is_driver)
    unknown = sorted(set(driver_shares) - set(drivers))
    if unknown:
        raise ToolError(f"--driver-shares: unknown driver '{unknown[0]}' (drivers: {', '.join(drivers)})")
    tracked = git(repo.root, "ls-files").splitlines()
    with Progress("bench --replay: reading the build graph"):
        graph = load_graph(repo.root)
    results = replay(
        graph,
        subprojects,
        tracked,
        mix,
        driver_shares,
        commits=args.commits,
        seed=args.seed,
        tools=tool_resolves(repo.root),
    )
    expected = sum(r.share / 100 * r.driver_cis for r in results)
    voting = sum(r.share / 100 * r.voting_cis for r in results)
    head = repo.resolve("HEAD")
    if args.format == "json":
        doc = {
            "mode": "replay",
            "commit": head,
            "baseline_driver_cis_per_commit": BASELINE,
            "driver_cis_per_commit": round(expected, 3),
            "voting_driver_cis_per_commit": round(voting, 3),
            "ratio_of_baseline": round(expected / BASELINE, 4),
            "categories": [r.__dict__ for r in results],
        }
        print_json("bench", doc)
        return 0
    rows = [("category", "share %", "driver CIs/commit", "voting", "example commit -> drivers run")]
    for r in results:
        example = f"{' '.join(r.example)} -> {', '.join(r.example_drivers) or 'none'}"
        rows.append((r.category, f"{r.share:.1f}", f"{r.driver_cis:.2f}", f"{r.voting_cis:.2f}", example))
    print_table(rows, right={1, 2, 3})
    print(
        f"\nexpected driver CIs per commit: {expected:.2f} ({voting:.2f} voting) against {BASELINE} in 2014: "
        f"{100 * expected / BASELINE:.1f}% of the baseline ({args.commits} sampled commits per category, "
        f"seed {args.seed}, commit {head[:12]})"
    )
    return 0
