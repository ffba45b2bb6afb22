"""audit: prove the CI plan misses nothing, with behavioural mutations and non-Python inputs.

For each non-test Python module of nova-common and the drivers, one behavioural mutation (flip a
comparison, negate a condition, return None, drop a call, off-by-one; seeded), and for each
non-Python input (lockfiles: a corrupted hash and a valid re-serialisation; requirements.txt,
BUILD, pants.toml, subproject.toml, system-deps/bindep.txt, the vcsim Go source) one edit: in a
scratch worktree of HEAD, commit it, compute the plan, run the FULL test suite (Pants' cache
re-runs only what the edit invalidated) and classify. One line per mutation, then the summary:
misses (failing tests outside the plan), uncaught skips (a failing driver test its policy
skipped while no planned test failed), survivors, unplanned re-runs, precision (planned test
files per failing test file). Exit 1 on a miss or an uncaught skip. One line per phase and per
mutation goes to stderr; on a terminal a status line also shows the count and an ETA. The full
audit takes hours: --journal FILE keeps each result as it comes, so an interrupted run goes on
where it stopped when run again. --report FILE prints a journal's figures; with --replan, each of
its behavioural mutations is planned again at HEAD against the failures it recorded (no test
runs: minutes, a projection of what the current selection costs and whether it still plans every
recorded failure; an audit at HEAD is the measurement).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any

from nova_common_cli.progress import Progress
from nova_split_tools.audit import KINDS, Outcome, audit
from nova_split_tools.audit_journal import read_journal
from nova_split_tools.audit_replan import Replanned, replan
from nova_split_tools.errors import ToolError
from nova_split_tools.input_mutations import NEUTRAL_OPERATORS
from nova_split_tools.output import add_format_argument, print_json
from nova_split_tools.proc import git
from nova_split_tools.repo import Repository

__all__ = ["add_arguments", "run", "summarize"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sample", type=int, metavar="N", help="audit N mutations chosen with --seed (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the mutation sites and the sample (default: 0)")
    parser.add_argument(
        "--kind", choices=KINDS, action="append", help="only python mutations or only non-Python inputs (repeatable)"
    )
    parser.add_argument("--path", action="append", metavar="FILE", help="only the mutations of FILE (repeatable)")
    parser.add_argument(
        "--journal",
        type=Path,
        metavar="FILE",
        help="record each finished mutation in FILE, and take those an earlier run of this commit and seed "
        "recorded there instead of running them again (an interrupted audit goes on; parts add up)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help="run nothing: print the figures of the journal FILE (any commit's; also while an audit "
        "appends to it), for the mutations --kind selects",
    )
    parser.add_argument(
        "--replan",
        action="store_true",
        help="with --report: plan each behavioural mutation of the journal again at HEAD, against the "
        "failures it recorded (no test runs; a projection for a changed selection: misses, precision)",
    )
    parser.add_argument(
        "--no-impact",
        action="store_true",
        help="plan from the build graph alone, without the test-impact map committed at HEAD (nova-split impact)",
    )
    add_format_argument(parser)


def _neutral(o: Outcome) -> bool:
    """A behaviour-preserving edit that no test failed on, as it should be (not a test gap), and
    whose re-runs the plan all ran."""
    return o.outcome == "survived" and o.operator in NEUTRAL_OPERATORS and not o.unplanned_reruns


def _misses(o: Outcome) -> int:
    """The misses of ``o``; a journal of an earlier version left a neutral edit's unplanned re-runs
    out of them (:func:`~nova_split_tools.audit.classify` counts them now)."""
    late = o.operator in NEUTRAL_OPERATORS and o.outcome == "survived"
    return len(o.misses) + (len(o.unplanned_reruns) if late else 0)


def summarize(outcomes: list[Outcome]) -> dict[str, Any]:
    """The audit's figures; precision over the mutations with a failing test."""
    caught = [o for o in outcomes if o.failed]
    planned = sum(o.planned for o in caught)
    failed = sum(len(o.failed) for o in caught)
    return {
        "mutations": len(outcomes),
        "caught": sum(o.outcome == "caught" for o in outcomes),
        "misses": sum(_misses(o) for o in outcomes),
        "uncaught_skips": sum(len(o.uncaught_skips) for o in outcomes),
        "survivors": sum(o.outcome == "survived" and not _neutral(o) for o in outcomes),
        "neutral": sum(_neutral(o) for o in outcomes),
        # the planned run errored (settled by running the plan and the rest apart)
        "pants_errors": sum(o.error is not None for o in outcomes),
        # a Pants error an earlier version left unsettled: no miss can be ruled out there
        "unsettled": sum(o.outcome == "pants-error" for o in outcomes),
        "unplanned_reruns": sum(len(o.unplanned_reruns) for o in outcomes),
        "precision": round(planned / failed, 2) if failed else None,
    }


def _repo_paths(repo: Repository, given: list[str] | None) -> list[str] | None:
    """``--path`` values as repository paths (absolute, ``./``-relative or repo-relative), tracked at HEAD."""
    if not given:
        return None
    tracked = set(git(repo.root, "ls-files").splitlines())
    out = []
    for raw in given:
        p = Path(raw)
        rel = raw
        if p.is_absolute() or p.exists():
            try:
                rel = p.resolve().relative_to(repo.root.resolve()).as_posix()
            except ValueError:
                raise ToolError(f"--path {raw}: outside the repository at {repo.root}") from None
        if rel not in tracked:
            raise ToolError(f"--path {raw}: not a file tracked at HEAD of {repo.root}")
        out.append(rel)
    return out


def run(args: argparse.Namespace) -> int:
    if args.replan and args.report is None:
        raise ToolError("--replan re-plans a journal's mutations: give the journal with --report FILE")
    if args.report is not None:
        return _report(args)
    repo = Repository(args.repo)
    if args.sample is not None and args.sample < 1:
        raise ToolError("--sample must be at least 1")
    kinds = args.kind or KINDS
    with Progress("audit: steps") as progress:
        outcomes, baseline = audit(
            repo.root,
            sample=args.sample,
            seed=args.seed,
            kinds=kinds,
            paths=_repo_paths(repo, args.path),
            progress=progress,
            journal=args.journal.resolve() if args.journal else None,
            use_impact=not args.no_impact,
        )
    commit = git(repo.root, "rev-parse", "HEAD").strip()
    journal = str(args.journal.resolve()) if args.journal else None
    return _print(args.format, outcomes, commit, args.seed, journal, baseline)


def _report(args: argparse.Namespace) -> int:
    """``--report FILE``: the figures a journal holds, without running anything."""
    given = [
        flag for flag, value in (("--sample", args.sample), ("--path", args.path), ("--journal", args.journal)) if value
    ]
    if given:
        raise ToolError(f"--report prints a journal's figures and runs nothing; drop {', '.join(given)}")
    journal = read_journal(args.report)
    if args.replan:
        if args.kind and "python" not in args.kind:
            raise ToolError("--replan re-plans behavioural (python) mutations only; drop --kind inputs")
        replanned = replan(Repository(args.repo).root, journal, use_impact=not args.no_impact)
        if not replanned.outcomes:
            raise ToolError(f"--replan: every mutation of {args.report} was left out (see above)")
        return _print(
            args.format, replanned.outcomes, replanned.head, journal.seed, str(args.report.resolve()), None, replanned
        )
    kinds = set(args.kind or KINDS)
    outcomes = [Outcome(**o) for key, o in journal.recorded.items() if key[0] in kinds]
    if not outcomes:
        raise ToolError(f"--report {args.report} records no mutation of kind {' or '.join(sorted(kinds))}")
    return _print(args.format, outcomes, journal.commit, journal.seed, str(args.report.resolve()), None)


def _print(
    format: str,
    outcomes: list[Outcome],
    commit: str,
    seed: int,
    journal: str | None,
    baseline: list[str] | None,
    replanned: Replanned | None = None,
) -> int:
    """The report of ``outcomes`` (one line each and the summary, or JSON); the exit status.

    ``baseline`` is None for a journal's report (a journal does not keep the baseline run);
    ``replanned``: the outcomes are a projection (``--replan``): what was not re-planned is null.
    """
    summary = summarize(outcomes)
    if replanned is not None:
        summary.update(pants_errors=None, unplanned_reruns=None)
    if format == "json":
        doc = {
            "summary": summary,
            "commit": commit,
            "seed": seed,
            "journal": journal,
            "baseline_failures": baseline,
            "replanned": replanned.as_json() if replanned is not None else None,
            "mutations": [
                asdict(o) | ({"unplanned_reruns": None, "seconds": None} if replanned is not None else {})
                for o in outcomes
            ],
        }
        print_json("audit", doc)
    else:
        if replanned is not None:
            print(
                f"PROJECTION: the failures journal {journal} recorded at {replanned.journal_commit[:12]}, "
                f"planned at HEAD {replanned.head[:12]}; no test ran"
            )
        for o in outcomes:
            extra = "".join(
                [
                    f", MISSED {o.misses}" if o.misses else "",
                    f", UNCAUGHT SKIPS {o.uncaught_skips}" if o.uncaught_skips else "",
                    f", re-ran outside the plan {o.unplanned_reruns}" if o.unplanned_reruns else "",
                    f", pants error: {o.error}" if o.error else "",
                ]
            )
            outcome = "neutral" if _neutral(o) else o.outcome
            print(f"{outcome:13} {o.path}: {o.description} (planned {o.planned}, failed {len(o.failed)}){extra}")
        s = summary
        source = f" (journal {journal}, commit {commit[:12]}, seed {seed})" if baseline is None else ""
        tail = f"{s['neutral']} neutral edit(s) nothing failed on, {s['pants_errors']} Pants error(s), "
        tail += f"{s['unsettled']} UNSETTLED (a miss is not ruled out), " if s["unsettled"] else ""
        tail += f"{s['unplanned_reruns']} unplanned re-run(s); "
        if replanned is not None:
            source = (
                f" (projected at HEAD {replanned.head[:12]} from journal {journal} of {replanned.journal_commit[:12]})"
            )
            tail = (
                f"{replanned.changed} mutated module(s) changed since, {len(replanned.left_out)} thing(s) left out, "
                f"{replanned.inputs} input mutation(s) not re-planned; "
            )
        print(
            f"\n{s['mutations']} mutation(s){source}: {s['caught']} caught, {s['misses']} miss(es), "
            f"{s['uncaught_skips']} uncaught skip(s), {s['survivors']} survivor(s), "
            + tail
            + f"precision {s['precision']} (planned/failing test files)"
        )
        if baseline:
            print(f"not counted (failing without any mutation): {', '.join(baseline)}")
    return 1 if summary["misses"] or summary["uncaught_skips"] or summary["unsettled"] else 0
