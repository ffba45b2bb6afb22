"""bench-clone: what a closure clone fetches and checks out against a full clone, from a URL, at scale.

Generates (or reuses) a realistic monorepo (default: 10,000 commits
over about two years; each driver about twenty times nova-common's files; large files such as disk
images added to and deleted from the drivers' history), serves it over smart HTTP on loopback
(``git http-backend``; ``--transport file`` clones its ``file://`` URL instead), then in one run:
a full ``git clone`` of the URL, and ``nova-split clone URL DRIVER`` for each driver (the set read
from the repository's committed ``build-support/clone-closures.json``). For each it prints the
objects and bytes in the clone's object store, the bytes the server sent (HTTP only, blobs
fetched at checkout included) and the files checked out, with ratios against the full clone.
Figures, not assertions; the goal for a driver is at most 30% of the full clone's bytes.

The generated repository is cached under the system's temporary directory, keyed by its
parameters (``--regenerate`` rebuilds it), so a second run skips the generation.
"""

from __future__ import annotations

import argparse
import fcntl
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nova_split_tools.clone import clone, stats
from nova_split_tools.errors import ToolError
from nova_split_tools.git_http import GitHttpServer
from nova_split_tools.output import add_format_argument, print_json
from nova_split_tools.proc import git
from nova_split_tools.synthetic_history import DRIVERS, Scale, SyntheticHistory
from nova_split_tools.table import print_table

__all__ = ["add_arguments", "run", "synthetic_repo"]

GOAL = 0.30
CACHE_VERSION = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--commits", type=int, default=10000, help="commits to generate (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="the history's seed (default: %(default)s)")
    parser.add_argument(
        "--driver", choices=[*DRIVERS, "all"], default="all", help="the driver(s) to clone (default: all)"
    )
    parser.add_argument(
        "--driver-modules", type=int, default=650, help="extra modules per driver (default: %(default)s)"
    )
    parser.add_argument("--large-every", type=int, default=40, help="1 in N driver commits adds a large file")
    parser.add_argument("--large-bytes", type=int, default=200_000, help="a large file's mean size (bytes)")
    parser.add_argument("--transport", choices=["http", "file"], default="http", help="how to reach the URL")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the cached repository")
    add_format_argument(parser)


def synthetic_repo(commits: int, seed: int, scale: Scale, *, regenerate: bool = False) -> Path:
    """The generated monorepo (``<cache>/monorepo``), built once per parameter set and cached.

    It is written in a sibling directory and renamed into place, so an interrupted generation is
    never reused. Runs with the same parameters share the cache: an ``flock`` on ``<cache>.lock``
    makes the second wait for the first one's repository instead of generating its own.
    """
    key = f"v{CACHE_VERSION}-s{seed}-c{commits}-{scale.key()}"
    cache = Path(tempfile.gettempdir()) / f"nova-split-bench-clone-{key}"
    repo = cache / "monorepo"
    with open(cache.with_name(cache.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        if regenerate:
            shutil.rmtree(cache, ignore_errors=True)
        if repo.is_dir():
            return repo
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="generating-", dir=cache) as tmp:
            SyntheticHistory(seed, focus="xen", scale=scale).write(Path(tmp) / "monorepo", commits)
            git(Path(tmp) / "monorepo", "gc", "-q")  # one pack, as a hosting service serves it
            (Path(tmp) / "monorepo").rename(repo)
    return repo


def _fmt(n: int) -> str:
    return f"{n:,}"


def run(args: argparse.Namespace) -> int:
    if args.commits < 20 or args.driver_modules < 0 or args.large_every < 0 or args.large_bytes < 0:
        raise ToolError("--commits must be at least 20; the scale options must not be negative")
    json_output = args.format == "json"

    def say(line: str) -> None:  # progress: stdout for people, stderr under --format json
        print(line, file=sys.stderr if json_output else sys.stdout, flush=True)

    scale = Scale(args.driver_modules, 6, args.large_every, args.large_bytes)
    start = time.perf_counter()
    say(f"monorepo: {args.commits} commits, seed {args.seed}, {scale} ...")
    repo = synthetic_repo(args.commits, args.seed, scale, regenerate=args.regenerate)
    say(f"  ready in {time.perf_counter() - start:.1f}s: {repo}")
    drivers = list(DRIVERS) if args.driver == "all" else [args.driver]
    files_of = {d: len(git(repo, "ls-files", f"drivers/{d}").splitlines()) for d in drivers}
    core_files = len(git(repo, "ls-files", "nova-common").splitlines())
    rows: list[tuple[str, int, int, int | None, int, float]] = []
    with tempfile.TemporaryDirectory(prefix="nova-split-bench-clone-") as tmp, GitHttpServer(repo.parent) as server:
        url = server.url("monorepo") if args.transport == "http" else repo.as_uri()
        say(f"cloning from {url}")

        def measured(label: str, make: Path, do: object) -> None:
            server.reset()
            began = time.perf_counter()
            do()  # type: ignore[operator]
            seconds = time.perf_counter() - began
            s = stats(make)
            sent = server.sent if args.transport == "http" else None
            rows.append((label, s.objects, s.bytes, sent, s.files, seconds))
            say(f"  {label}: {seconds:.1f}s")

        full = Path(tmp) / "full"
        measured(
            "full clone (git clone)",
            full,
            lambda: subprocess.run(["git", "clone", "-q", url, str(full)], check=True, capture_output=True),
        )
        for d in drivers:
            dest = Path(tmp) / d

            def closure_clone(d: str = d, dest: Path = dest) -> None:
                clone(url, d, dest, closure=_no_fallback)

            measured(f"closure clone of {d} ({files_of[d]} files)", dest, closure_clone)
    base = rows[0]
    if json_output:
        print_json("bench-clone", _document(args, rows, core_files, files_of))
        return 0
    table = [("clone", "objects", "bytes in .git/objects", "bytes sent", "files checked out", "seconds")]
    for label, objects, size, sent, files, seconds in rows:
        table.append(
            (
                label,
                f"{_fmt(objects)} ({objects / base[1]:.0%})",
                f"{_fmt(size)} ({size / base[2]:.0%})",
                f"{_fmt(sent)} ({sent / base[3]:.0%})" if sent is not None and base[3] else "-",
                f"{_fmt(files)} ({files / base[4]:.0%})",
                f"{seconds:.1f}",
            )
        )
    print()
    print_table(table, right={1, 2, 3, 4, 5})
    print()
    print(f"tree at the tip: nova-common {core_files} files; " + ", ".join(f"{d} {n}" for d, n in files_of.items()))
    best = min(rows[1:], key=lambda r: r[2])
    worst = max(rows[1:], key=lambda r: r[2])
    print(
        f"bytes of a closure clone against the full clone: {best[2] / base[2]:.0%} ({best[0].split(' (')[0]}) "
        f"to {worst[2] / base[2]:.0%} ({worst[0].split(' (')[0]}); goal: at most {GOAL:.0%} for one driver"
    )
    return 0


def _document(
    args: argparse.Namespace,
    rows: list[tuple[str, int, int, int | None, int, float]],
    core_files: int,
    files_of: dict[str, int],
) -> dict[str, object]:
    """The figures as data: each clone's counts, and the closure clones' shares of the full one."""
    base = rows[0]

    def share(part: int | None, whole: int | None) -> float | None:
        return round(part / whole, 4) if part is not None and whole else None

    clones = []
    for (label, objects, size, sent, files, seconds), driver in zip(rows, [None, *files_of], strict=True):
        clones.append(
            {
                "clone": "full" if driver is None else "closure",
                "driver": driver,
                "label": label,
                "objects": objects,
                "bytes_stored": size,
                "bytes_sent": sent,
                "files": files,
                "seconds": round(seconds, 3),
                "share_of_full": None
                if driver is None
                else {
                    "objects": share(objects, base[1]),
                    "bytes_stored": share(size, base[2]),
                    "bytes_sent": share(sent, base[3]),
                    "files": share(files, base[4]),
                },
            }
        )
    return {
        "commits": args.commits,
        "seed": args.seed,
        "transport": args.transport,
        "tip_files": {"nova-common": core_files, **files_of},
        "goal_bytes_share": GOAL,
        "clones": clones,
    }


def _no_fallback(root: Path, path: str) -> set[str]:
    raise ToolError(f"the generated repository's committed closure data has no current entry for {path}")
