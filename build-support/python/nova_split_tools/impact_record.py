"""Recording the test-impact map: ``pants test`` under coverage, every process measured.

``nova-split impact record`` runs the tests with two variables in each test's environment
(``pants test --test-extra-env-vars``): ``COVERAGE_PROCESS_START``, the coverage configuration
written here (:func:`coverage_config`), and ``NOVA_IMPACT_DATA``, the directory the data goes to.
Coverage's own ``a1_coverage.pth`` (coverage is locked in the 'common' resolve, and pytest installs
from that resolve for every test) starts measuring in every Python process that has the first
and whose interpreter has coverage: pytest itself and the children that inherit the environment
(``nova-compute``, ``nova-split`` on its exported venv). Each process writes its own data file.

Attribution (:func:`combine`): a child's data carries the test that was running when it started
(the static context ``${PYTEST_CURRENT_TEST}``, which pytest sets while a test runs); pytest's own
process has no context but executed exactly one test module (tests never import tests), which
names it. What runs where coverage cannot see is marked, and the test is not trusted: a nested
Pants run (``./pants`` appends to ``$NOVA_IMPACT_DATA/sealed`` when the variable is set; Pants
runs its sandboxes with a clean environment) and the runners the test helpers mark
(``nova_split_tools.testing.impact.sealed``: tox, sudo). A test that failed, or whose pytest
process left no data, is not trusted either.
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import sqlite3
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from nova_split_tools.errors import ToolError
from nova_split_tools.impact_map import Body, FileRecord, ImpactMap, bodies, git_blob

__all__ = [
    "DATA_ENV",
    "DEBUG_FILE",
    "KEPT_MARKER",
    "SEALED_FILE",
    "Recording",
    "combine",
    "coverage_config",
    "exclusive",
    "pants_args",
    "read_lost",
    "repo_path",
    "report_test",
    "suffix_index",
]

#: The variable naming the data directory in every test's environment (and ``./pants`` reads).
DATA_ENV = "NOVA_IMPACT_DATA"
#: Lines ``test<TAB>what`` of runs coverage cannot see, appended under the data directory.
SEALED_FILE = "sealed"
#: coverage's debug output, every measured process's start (see :func:`coverage_config`).
DEBUG_FILE = "debug.log"


def coverage_config(data: Path) -> str:
    """The coverage configuration of a recording into ``data``."""
    return "\n".join(
        [
            "[run]",
            # One data file per process: pytest, and every child it starts.
            "parallel = true",
            f"data_file = {data / '.coverage'}",
            # The test running when a child started (pytest sets it for setup, call and teardown).
            "context = ${PYTEST_CURRENT_TEST-}",
            # Save before os._exit and before an os.exec* replaces the process.
            "patch = _exit, execv",
            # Every process says at its start who it is, its parent and its context (one line each,
            # prefixed by its pid): a process that dies before saving its data is still known.
            "debug = process, config, pid, patch",
            f"debug_file = {data / DEBUG_FILE}",
            "",
        ]
    )


def pants_args(data: Path, config: Path, reports: Path, specs: Iterable[str]) -> list[str]:
    """The ``pants`` arguments of a recording (every test re-run: a cached result measures nothing);
    ``reports`` is relative to the build root, as Pants wants it."""
    env = [f"COVERAGE_PROCESS_START={config}", f"{DATA_ENV}={data}"]
    return [
        "test",
        "--force",
        f"--test-extra-env-vars={json.dumps(env)}",
        "--test-report",
        f"--test-report-dir={reports}",
        *specs,
    ]


def suffix_index(tracked: Iterable[str]) -> dict[str, set[str]]:
    """Tracked Python file -> by every path suffix of two or more parts (``nova_libvirt/driver.py``,
    ``drivers/libvirt/nova_libvirt/driver.py``, ...), to find the file a sandbox, a clone or a venv
    ran (:func:`repo_path`)."""
    index: dict[str, set[str]] = {}
    for path in tracked:
        parts = PurePosixPath(path).parts
        for k in range(2, len(parts) + 1):
            index.setdefault("/".join(parts[-k:]), set()).add(path)
    return index


def candidates(measured: str, index: Mapping[str, set[str]]) -> set[str]:
    """The tracked files a measured file may be a copy of: those its longest matching path suffix
    names (one, where the suffix is unique)."""
    parts = PurePosixPath(measured).parts
    for k in range(len(parts), 1, -1):
        found = index.get("/".join(parts[-k:]))
        if found is not None:
            return set(found)
    return set()


def repo_path(measured: str, index: Mapping[str, set[str]]) -> str | None:
    """The tracked file a measured file is a copy of, if exactly one."""
    found = candidates(measured, index)
    return next(iter(found)) if len(found) == 1 else None


@dataclass
class Recording:
    """What a recording saw, before it becomes a map."""

    #: test file -> repo file -> executed lines
    lines: dict[str, dict[str, set[int]]] = field(default_factory=dict)
    #: repo file -> lines executed by a process no test can be named for
    unattributed: dict[str, set[int]] = field(default_factory=dict)
    #: test files whose pytest process left data
    measured: set[str] = field(default_factory=set)
    #: test file -> why it is not trusted
    untrusted: dict[str, str] = field(default_factory=dict)
    #: pids of the processes whose data was read
    saved: set[int] = field(default_factory=set)


_CONTEXT_TEST = re.compile(r"^(?P<path>[^:]+\.py)::")


def read_data(data: Path, tests: set[str], index: Mapping[str, set[str]], into: Recording) -> None:
    """Every coverage data file under ``data``, attributed to the test files ``tests``."""
    from coverage import CoverageData  # only a recording needs it
    from coverage.exceptions import DataError

    for f in sorted(data.glob(".coverage.*")):
        cov = CoverageData(basename=str(f))
        try:
            cov.read()
            measured_files = sorted(cov.measured_files())
            contexts = sorted(cov.measured_contexts())
        except (DataError, sqlite3.Error):
            continue  # cut short by a kill: its process counts as lost (read_lost)
        into.saved.add(_pid(f.name))
        files = {m: candidates(m, index) for m in measured_files}
        for context in contexts:
            cov.set_query_contexts(["^" + re.escape(context) + "$"])
            executed: dict[str, set[int]] = {}
            for m, found in files.items():
                lines = set(cov.lines(m) or ())
                if not lines:
                    continue
                if len(found) == 1:
                    executed.setdefault(next(iter(found)), set()).update(lines)
                else:  # which copy is unknown: each candidate's functions stay un-narrowed
                    for p in found:
                        into.unattributed.setdefault(p, set()).update(lines)
            if context:
                match = _CONTEXT_TEST.match(context)
                test = match.group("path") if match else None
            else:
                # pytest's own process: it ran exactly one test module (tests never import tests)
                own = [p for p in executed if p in tests]
                test = own[0] if len(own) == 1 else None
                if test is not None:
                    into.measured.add(test)
            if test is None or test not in tests:
                for p, ls in executed.items():
                    into.unattributed.setdefault(p, set()).update(ls)
                continue
            mine = into.lines.setdefault(test, {})
            for p, ls in executed.items():
                mine.setdefault(p, set()).update(ls)


def read_sealed(data: Path, tests: set[str], into: Recording) -> list[str]:
    """The sealed runs marked under ``data``: each one's test is not trusted. Returns the runs no
    test can be named for (the caller refuses the recording)."""
    orphans: list[str] = []
    marks = data / SEALED_FILE
    if not marks.exists():
        return orphans
    for line in marks.read_text(errors="replace").splitlines():
        running, _, what = line.partition("\t")
        match = _CONTEXT_TEST.match(running)
        test = match.group("path") if match else None
        if test is None or test not in tests:
            orphans.append(what or line)
        else:
            into.untrusted.setdefault(test, f"started {what or 'a sealed runner'}: coverage cannot see into it")
    return orphans


_PID = re.compile(r"\.pid(\d+)\.")
#: coverage pads the pid to five places: ``" 6840.f55f: text"``
_DEBUG = re.compile(r"^\s*(?P<pid>\d+)\.[0-9a-f]+: (?P<text>.*)$")


def _pid(name: str) -> int:
    found = _PID.search(name)
    return int(found.group(1)) if found else -1


def read_lost(data: Path, tests: set[str], into: Recording) -> list[str]:
    """The processes that started measured (coverage's debug log) but left no data that reads (a
    kill, or a timeout): each one's test is not trusted. A lost process is named for the test its
    context names, else a test its command line names (pytest's own), else its parent's. Returns
    those no test can be named for (the caller refuses the recording)."""
    log = data / DEBUG_FILE
    if not log.exists():
        return []
    context: dict[int, str] = {}
    parent: dict[int, int] = {}
    command: dict[int, str] = {}
    ended: set[int] = set()
    for line in log.read_text(errors="replace").splitlines():
        m = _DEBUG.match(line)
        if m is None:
            continue
        pid, text = int(m.group("pid")), m.group("text")
        if text.startswith("New process parent pid: "):
            parent[pid] = int(text.rsplit(" ", 1)[1])
        elif text.startswith("New process: cmd: "):
            command[pid] = text
        elif text.lstrip().startswith("context: ") and pid not in context:
            context[pid] = text.lstrip()[len("context: ") :]
        elif text.startswith(("atexit: ", "Using _exit patch", "Using execv patch")):
            ended.add(pid)
    started = set(context) | set(parent)
    # a process that ended cleanly may have had nothing to save; one whose file does not read was
    # cut short while saving
    files = {_pid(f.name) for f in data.glob(".coverage.*")}
    done = into.saved | (ended - files)

    def test_of(pid: int, depth: int = 0) -> str | None:
        found = _CONTEXT_TEST.match(context.get(pid, ""))
        if found is not None:
            return found.group("path")
        named = [t for t in tests if t in command.get(pid, "")]
        if len(named) == 1:
            return named[0]
        if pid in parent and parent[pid] in started and depth < 50:
            return test_of(parent[pid], depth + 1)
        return None

    orphans: list[str] = []
    for pid in sorted(started - done):
        test = test_of(pid)
        if test is None or test not in tests:
            orphans.append(f"pid {pid}: {command.get(pid, 'an unknown command')}")
        else:
            into.untrusted.setdefault(test, "a process it started ended before coverage saved its data (killed?)")
    return orphans


def read_reports(reports: Path, tests: set[str], into: Recording) -> set[str]:
    """The test files the JUnit reports under ``reports`` name; a failed one is not trusted."""
    seen: set[str] = set()
    for xml in sorted(reports.glob("*.xml")):
        test = report_test(xml.name, tests)
        if test is None:
            continue
        seen.add(test)
        try:
            root = ET.parse(xml).getroot()
        except ET.ParseError:
            into.untrusted.setdefault(test, "its test report does not parse")
            continue
        suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
        if any(int(s.get("failures", "0")) or int(s.get("errors", "0")) for s in suites):
            into.untrusted.setdefault(test, "it failed in the recording")
        elif any(int(s.get("skipped", "0")) for s in suites):
            # what a skipped test would run elsewhere is not recorded
            into.untrusted.setdefault(test, "some of its tests were skipped in the recording")
    return seen


def report_test(name: str, tests: set[str]) -> str | None:
    """The test file a Pants JUnit report is named for: its path with dots for slashes, then the
    target's name (``a.b_test.py@tests.xml``, ``a.b_test.py@@tests.xml``, ``a.b_test.py.integration.xml``)."""
    found = [t for t in tests if name.startswith(t.replace("/", ".")) and name[len(t) : len(t) + 1] in ("@", ".")]
    return max(found, key=len) if found else None


def build_map(commit: str, recording: Recording, texts: Mapping[str, str], ran: set[str]) -> ImpactMap:
    """The map of ``recording`` at ``commit``; ``texts`` are the recorded files' texts at that
    commit, ``ran`` the test files the run reported on."""
    untrusted = dict(recording.untrusted)
    for test in sorted(ran):
        if test not in recording.measured:
            untrusted.setdefault(test, "its pytest process left no coverage data")
    trusted = tuple(sorted(t for t in ran if t not in untrusted))
    index = {t: i for i, t in enumerate(trusted)}
    files: dict[str, FileRecord] = {}
    touched = sorted({p for t in trusted for p in recording.lines.get(t, {})})
    for path in touched:
        text = texts.get(path)
        found = bodies(text) if text is not None else None
        if text is None or found is None:
            continue
        users = {index[t]: recording.lines[t][path] for t in trusted if path in recording.lines.get(t, {})}
        unknown = recording.unattributed.get(path, set())
        functions = {
            b.qualname: executing
            for b in found
            # Not narrowed: a function a process no test can be named for ran, and one no trusted
            # test ran (it may run only where coverage cannot see, such as a forked child's
            # preexec_fn, which execs before coverage saves).
            if not _runs(b, unknown) and (executing := frozenset(i for i, ls in users.items() if _runs(b, ls)))
        }
        files[path] = FileRecord(git_blob(text), frozenset(users), functions)
    return ImpactMap(commit, trusted, untrusted, files)


def _runs(body: Body, lines: set[int]) -> bool:
    return any(body.start <= n <= body.end for n in lines)


def combine(
    data: Path, reports: Path, commit: str, texts: Mapping[str, str], tests: set[str]
) -> tuple[ImpactMap, list[str]]:
    """The map of a recording into ``data`` with reports under ``reports``; ``texts`` are the
    tracked Python files at ``commit`` and ``tests`` its test files. Also returns the sealed runs
    no test can be named for and the processes lost outside any test (a map with them would be
    wrong: the caller refuses it)."""
    recording = Recording()
    index = suffix_index(texts)
    ran = read_reports(reports, tests, recording)
    orphans = read_sealed(data, tests, recording)
    read_data(data, tests, index, recording)
    orphans += read_lost(data, tests, recording)
    return build_map(commit, recording, texts, ran), orphans


#: In a recording's data directory: the data is kept on purpose (a failure after the tests ran).
KEPT_MARKER = "KEPT"


@contextmanager
def exclusive(root: Path) -> Iterator[list[Path]]:
    """Hold the repository's recording lock for one recording, and yield the data directories
    that recordings killed before they could clean up left behind (removed: they hold no result).

    A second recording in the same repository is refused in one line rather than run beside the
    first (both would run every test, and the last to end would overwrite the other's map)."""
    parent = root / "dist" / "impact"
    parent.mkdir(parents=True, exist_ok=True)
    with (parent / ".lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ToolError(
                "another 'nova-split impact record' is running in this repository; "
                "wait for it to end, then run this again"
            ) from None
        left = []
        for d in sorted(parent.glob("record-*")):
            if d.is_symlink():  # not one a recording makes: the link goes, never what it points to
                d.unlink()
            elif d.is_dir() and not (d / KEPT_MARKER).exists():
                remove(d)
            else:
                continue
            if not d.exists() and not d.is_symlink():
                left.append(d)
        yield left


def scratch_dir(root: Path) -> Path:
    """A new directory for one recording's data, under the repository's ``dist/`` (ignored by git)."""
    parent = root / "dist" / "impact"
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="record-", dir=parent))


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
