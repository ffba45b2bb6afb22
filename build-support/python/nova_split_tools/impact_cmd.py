"""impact: record which test files execute which functions, and show it (the test-impact map).

``record [SPEC ...]`` runs ``pants test`` on SPEC (default ``::``, every test) with coverage
measuring every process (``nova_split_tools.impact_record``), then writes the map of HEAD to
``build-support/impact/coverage-map.json`` (``--output``): commit it, and plans of changes on top
of it narrow Python changes confined to function bodies to the tests that executed them
(docs/change-aware-ci.md#test-impact). The work tree must be clean (the map is HEAD's); the map
is written whole at the end or not at all, and an interrupted recording leaves nothing behind.
Exit 1 when a test failed (the map is written, without that test's record).

``show FILE [FUNCTION]`` prints, from the committed map, the test files that executed each
function of FILE (or one function's), and the test files the map does not trust, with the reason.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nova_split_tools.errors import ToolError
from nova_split_tools.impact_map import MAP_PATH, read_map, write_map
from nova_split_tools.impact_record import (
    KEPT_MARKER,
    combine,
    coverage_config,
    exclusive,
    pants_args,
    remove,
    scratch_dir,
)
from nova_split_tools.output import add_format_argument, print_json
from nova_split_tools.proc import git, passthrough
from nova_split_tools.repo import Repository

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    record = sub.add_parser("record", help="run the tests under coverage and write the map of HEAD")
    record.add_argument("specs", nargs="*", metavar="SPEC", help="Pants specs of the tests to record (default: ::)")
    record.add_argument(
        "--output", type=Path, metavar="FILE", help=f"where to write the map (default: {MAP_PATH} in the repository)"
    )
    show = sub.add_parser("show", help="which test files executed the functions of a file (the committed map)")
    show.add_argument("file", metavar="FILE", help="a Python file, relative to the repository root")
    show.add_argument("function", nargs="?", metavar="FUNCTION", help="one function's qualified name (Class.method)")
    add_format_argument(show)


def run(args: argparse.Namespace) -> int:
    repo = Repository(args.repo)
    if args.action == "record":
        return _record(repo, args.specs or ["::"], args.output)
    return _show(repo, args.file, args.function, args.format)


def _record(repo: Repository, specs: list[str], output: Path | None) -> int:
    dirty = repo.dirty_paths()
    if dirty:
        raise ToolError(
            f"the work tree has uncommitted changes ({dirty[0]}{' and more' if len(dirty) > 1 else ''}); "
            "the map records HEAD: commit or stash them first"
        )
    with exclusive(repo.root) as left:
        for d in left:
            print(f"impact: removed {d.relative_to(repo.root)}, left by a recording that was killed")
        return _record_alone(repo, specs, output)


def _record_alone(repo: Repository, specs: list[str], output: Path | None) -> int:
    commit = repo.resolve("HEAD")
    target = output.resolve() if output is not None else repo.root / MAP_PATH
    data = scratch_dir(repo.root)
    keep = False
    try:
        config = data / "coverage.ini"
        config.write_text(coverage_config(data))
        reports = data / "reports"
        # Pants writes reports relative to the build root.
        code = passthrough(
            [str(repo.root / "pants"), *pants_args(data, config, reports.relative_to(repo.root), specs)], repo.root
        )
        tracked = [p for p in git(repo.root, "ls-files", "-z", "--", "*.py").split("\0") if p]
        texts = {p: t for p in tracked if (t := _text(repo.root / p)) is not None}
        tests = {p for p in tracked if p.endswith("_test.py")}
        keep = True  # from here on the data is the run's only result: kept if anything goes wrong
        imap, orphans = combine(data, reports, commit, texts, tests)
        if orphans:
            raise ToolError(
                f"a run coverage cannot see into started outside any test ({orphans[0]}); "
                "no map written: start it from a fixture or a test, not at import time"
            )
        if not imap.tests and not imap.untrusted:
            raise ToolError(f"no test reported ({' '.join(specs)}): no map written; see Pants' output above")
        write_map(target, imap)
        keep = False
    finally:
        if keep:
            (data / KEPT_MARKER).write_text("kept after a failure: see nova-split impact record's output\n")
            print(f"impact: the recording's data is kept in {data.relative_to(repo.root)} (delete it when done)")
        else:
            remove(data)
    shown = target.relative_to(repo.root) if target.is_relative_to(repo.root) else target
    print(
        f"impact: {shown}: {len(imap.tests)} test file(s) recorded, {len(imap.untrusted)} not trusted, "
        f"{len(imap.files)} source file(s) at {commit[:12]}"
    )
    for test, why in sorted(imap.untrusted.items()):
        print(f"  not trusted: {test}: {why}")
    return 0 if code == 0 else 1


def _text(path: Path) -> str | None:
    """A file's text as git stores it (no newline translation); None if it is not UTF-8."""
    try:
        return path.read_bytes().decode()
    except (OSError, UnicodeDecodeError):
        return None


def _show(repo: Repository, file: str, function: str | None, fmt: str) -> int:
    path = repo.root / MAP_PATH
    if not path.is_file():
        raise ToolError(f"no {MAP_PATH}: record one with 'nova-split impact record'")
    imap = read_map(path.read_text(), MAP_PATH)
    rec = imap.files.get(file)
    if rec is None:
        raise ToolError(f"{file}: not in the map (no recorded test executed it, or it is not a Python file)")
    functions = dict(rec.functions)
    if function is not None:
        if function not in functions:
            raise ToolError(f"{file}: no function {function!r} in the map (see: nova-split impact show {file})")
        functions = {function: functions[function]}
    named = {q: sorted(imap.tests[i] for i in ids) for q, ids in sorted(functions.items())}
    if fmt == "json":
        print_json("impact show", {"commit": imap.commit, "file": file, "functions": named})
        return 0
    print(f"{file} at {imap.commit[:12]}: imported by {len(rec.imported_by)} trusted test file(s)")
    for q, tests in named.items():
        print(f"  {q}: {len(tests)}" + (": " + ", ".join(tests) if function is not None or len(tests) <= 3 else ""))
    return 0
