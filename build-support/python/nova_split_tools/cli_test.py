"""The CLI's error contract: expected failures are one line on stderr and exit 2 (docs/cli.md)."""

import subprocess
from pathlib import Path
from typing import IO

import pytest

from nova_split_tools.cli import main
from nova_split_tools.testing.interrupt import gone
from nova_split_tools.testing.repos import commit, new_repo


def _repo(tmp_path: Path, pants_toml: str | None) -> Path:
    root = new_repo(tmp_path / "repo")
    files: dict[str, str | None] = {"a.py": "a\n"}
    if pants_toml is not None:
        files["pants.toml"] = pants_toml
    commit(root, "base", files)
    return root


_CONF = "[python.resolves]\ncommon = 'c.lock'\n"


@pytest.mark.parametrize(
    ("argv", "pants_toml", "message"),
    [
        (["plan"], None, "pants.toml"),
        (["plan"], "[python.resolves]\nxen = 'drivers/xen/xen.lock'\n", "has no 'common' resolve"),
        (["plan", "nope..HEAD"], _CONF, "unknown revision 'nope'"),
        (["plan", "--paths-from", "/nonexistent/list"], _CONF, "cannot read --paths-from"),
        (["plan", "--paths-from", "PATHS"], _CONF, r"\.\./escape\.py is outside the repository"),
        (["plan", "--paths-from", "EMPTY"], _CONF, "listed no paths"),
        (["plan", "HEAD"], _CONF, "no ./pants in"),
        (["plan", "HEAD", "--paths-from", "-"], _CONF, "not both"),
    ],
)
def test_expected_failures_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], pants_toml: str | None, message: str
) -> None:
    root = _repo(tmp_path, pants_toml)
    (tmp_path / "PATHS").write_text("a.py\n../escape.py\n")
    (tmp_path / "EMPTY").write_text("\n")
    argv = [str(tmp_path / a) if a in ("PATHS", "EMPTY") else a for a in argv]
    code = main(["--repo", str(root), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("nova-split plan: error: ") and err.count("\n") == 1
    assert __import__("re").search(message, err), err


def test_dirty_work_tree_is_refused_with_the_way_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _repo(tmp_path, "[python.resolves]\ncommon = 'c.lock'\n")
    (root / "a.py").write_text("changed\n")
    assert main(["--repo", str(root), "plan", "HEAD"]) == 2
    assert "uncommitted changes (a.py); commit or stash them, or plan them as paths" in capsys.readouterr().err


def test_a_caller_in_python_gets_its_signal_handlers_back_after_an_interrupted_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An interrupted release command leaves SIGINT/SIGTERM/SIGHUP ignored for the program's last
    line; called from Python (argv given), ``main`` gives the caller's handlers back."""
    import os
    import signal
    import time

    from nova_split_tools import cli
    from nova_split_tools.release_state import INTERRUPTS, interrupts_as_keyboard_interrupt

    def interrupted(args: object) -> int:
        with interrupts_as_keyboard_interrupt():  # as release cut, --continue and --abort do
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        return 0

    before = {sig: signal.getsignal(sig) for sig in INTERRUPTS}
    monkeypatch.setattr(cli.COMMANDS["owners"], "run", interrupted)
    try:
        assert main(["owners", "--check"]) == 130
        assert "interrupted by signal SIGTERM" in capsys.readouterr().err
        assert {sig: signal.getsignal(sig) for sig in INTERRUPTS} == before
    finally:
        for sig, handling in before.items():
            signal.signal(sig, handling)


@pytest.mark.parametrize("failure", ["tool", "os"])
def test_a_cleanup_that_fails_after_an_interrupt_still_reports_the_interrupt_and_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], failure: str
) -> None:
    """The interrupt is what happened (a supervisor's SIGTERM, a CI timeout): a cleanup that then
    fails (a worktree git cannot remove) adds to the line, and does not turn 130 into 2."""
    import os
    import signal
    import time

    from nova_split_tools import cli
    from nova_split_tools.errors import ToolError

    def interrupted(args: object) -> int:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        finally:
            if failure == "tool":
                raise ToolError("'git worktree remove' failed in /x: busy")
            raise PermissionError(13, "Permission denied", "/x/scratch")
        return 0

    monkeypatch.setattr(cli.COMMANDS["owners"], "run", interrupted)
    assert main(["owners", "--check"]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nova-split owners: terminated (SIGTERM); then its cleanup failed: ")
    assert ("busy" if failure == "tool" else "Permission denied") in err


def test_a_failure_after_a_handled_interrupt_is_a_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command that turns a Ctrl-C into its own error (``raise ... from None``) ends with that error."""
    from nova_split_tools import cli
    from nova_split_tools.errors import ToolError

    def handled(args: object) -> int:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise ToolError("no driver chosen") from None

    monkeypatch.setattr(cli.COMMANDS["owners"], "run", handled)
    assert main(["owners", "--check"]) == 2
    assert capsys.readouterr().err == "nova-split owners: error: no driver chosen\n"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"nova_common_cli/__init__.py": "def broken(:\n"}, r"nova_common_cli/__init__\.py:1: invalid syntax"),
        ({"nova_common_cli/__init__.py": ""}, r"ModuleNotFoundError: No module named 'nova_common_cli\.args'"),
        (
            {"nova_common_cli/__init__.py": "", "nova_common_cli/args.py": "raise RuntimeError('half-edited')\n"},
            r"nova_common_cli/args\.py:1: RuntimeError: half-edited",
        ),
        (
            {"nova_common_cli/__init__.py": "import json\n\njson.loads('{bad')\n"},
            r"nova_common_cli/__init__\.py:3: JSONDecodeError: Expecting property name",
        ),
        ({"nova_common_cli/__init__.py": "raise RuntimeError('first\\nsecond')\n"}, r"RuntimeError: first; second\)"),
        (
            {"nova_common_cli/__init__.py": "import no_such_library\n"},
            r"a library the tooling needs is missing \(no_such_library\)",
        ),
    ],
    ids=["syntax-error", "module-deleted", "raises-on-import", "in-the-stdlib", "two-lines", "library-missing"],
)
def test_a_work_tree_whose_command_line_plumbing_does_not_import_gets_one_line(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    """The tooling imports nova-common's command-line plumbing from the work tree: a branch where
    it does not import gets one line with the file, the line and the way on (red-team #4), not a
    traceback."""
    import os
    import re
    import subprocess
    import sys

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    path = os.pathsep.join([str(tmp_path), *sys.path])
    proc = subprocess.run(
        [sys.executable, "-m", "nova_split_tools", "--help"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert re.search(message, lines[0]) and lines[0].startswith("nova-split: ")


def _program(root: Path, *args: str, stderr: IO[str]) -> subprocess.Popen[str]:
    import os
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "nova_split_tools", "--repo", str(root), *args],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
    )


def test_an_unwritable_stderr_keeps_the_documented_exit_code(tmp_path: Path) -> None:
    """The one line cannot be written (stderr is a full disk, or a terminal that is gone): the exit
    code still says what happened (2 here), not 1 from a failed write or 120 from exiting."""
    root = _repo(tmp_path, _CONF)
    with open("/dev/full", "w") as full:
        proc = _program(root, "plan", "nope..HEAD", stderr=full)
        assert proc.wait(timeout=120) == 2


def test_interrupted_with_an_unwritable_stderr_is_still_130_and_never_runs_on(tmp_path: Path) -> None:
    """SIGTERM at spread-out moments, from the imports to the running command, with stderr a full
    disk: 130 (or SIGTERM's default, before any of the program's code runs). An exception from the
    start-up handler's failed write, raised inside an import, could be swallowed by the import
    system, and the command ran on."""
    import signal
    import time

    root = _repo(tmp_path, _CONF)
    started = tmp_path / "pants-started"
    script = f"#!/bin/sh\necho $$ > {started}\ntrap '' TERM\nexec sleep 60\n"
    (root / "pants").write_text(script)
    (root / "pants").chmod(0o755)
    commit(root, "a ./pants that hangs and ignores SIGTERM", {"pants": script})
    codes = []
    with open("/dev/full", "w") as full:
        for delay in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6, 0.8, 1.2):
            started.unlink(missing_ok=True)
            proc = _program(root, "plan", "HEAD~0", stderr=full)
            time.sleep(delay)
            proc.send_signal(signal.SIGTERM)
            try:
                codes.append(proc.wait(timeout=30))
            except subprocess.TimeoutExpired:
                proc.kill()
                raise AssertionError(f"SIGTERM after {delay} s: the command ran on") from None
            ran = started.exists() and bool(started.read_text().strip())
            if ran:
                assert gone(int(started.read_text())), "./pants outlived the command"
            # Before Python runs any of the program's code, SIGTERM's default action is all there is.
            assert codes[-1] == 130 or (codes[-1] == -signal.SIGTERM and not ran), (delay, codes)
    assert 130 in codes, codes  # the start-up handler and the command's own were both reached


@pytest.mark.parametrize("nohup", [False, True], ids=["terminal-closed", "under-nohup"])
def test_the_program_cleans_up_on_a_hangup_unless_nohup_ignores_it(tmp_path: Path, nohup: bool) -> None:
    """SIGHUP (the terminal closed) stops the program as SIGTERM does, child and all; under
    ``nohup`` the command outlives the terminal, as its user asked, until something else stops it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = _repo(tmp_path, _CONF)
    started = tmp_path / "pants-started"
    script = f"#!/bin/sh\necho $$ > {started}\ntrap '' TERM\nexec sleep 60\n"
    (root / "pants").write_text(script)
    (root / "pants").chmod(0o755)  # before the commit: git records the mode
    commit(root, "a ./pants that hangs and ignores SIGTERM", {"pants": script})

    def as_nohup() -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    proc = subprocess.Popen(
        [sys.executable, "-m", "nova_split_tools", "--repo", str(root), "plan", "HEAD~0"],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_nohup if nohup else None,
    )
    deadline = time.monotonic() + 120
    while not (started.exists() and started.read_text().strip()) and proc.poll() is None:
        assert time.monotonic() < deadline, "./pants never started"
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    child = int(started.read_text())
    proc.send_signal(signal.SIGHUP)
    if nohup:
        time.sleep(1)
        assert proc.poll() is None, "nohup asked the command to outlive the terminal"
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    said = "SIGTERM" if nohup else "SIGHUP"
    assert (proc.returncode, err) == (130, f"nova-split plan: terminated ({said})\n"), (out, err)
    assert gone(child), "./pants outlived the command"


_LATE = """
import os, runpy, signal, sys
import nova_split_tools.cli as cli

fail = cli._fail


def hangup_then_fail(command, message, code):  # the terminal closes as the command's line is written
    os.kill(os.getpid(), signal.SIGHUP)
    return fail(command, message, code)


cli._fail = hangup_then_fail
sys.argv = ["nova-split", *sys.argv[1:]]
runpy.run_module("nova_split_tools", run_name="__main__", alter_sys=True)
"""


def test_a_signal_after_the_command_ended_changes_neither_its_line_nor_its_exit_code(tmp_path: Path) -> None:
    """The command is over and only its line is left to write: a SIGHUP then is too late to
    interrupt anything, and must not become "interrupted while starting" (the start-up handler)."""
    import os
    import sys

    root = _repo(tmp_path, _CONF)
    proc = subprocess.run(
        [sys.executable, "-c", _LATE, "--repo", str(root), "plan", "nope..HEAD"],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nova-split plan: error: "), proc.stderr
