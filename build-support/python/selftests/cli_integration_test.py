"""build-support/bin/nova-split as users run it: the first run's venv export shows progress on a
terminal only, a failed export exits 2, an interrupted one 130; then the real tool in a scratch
clone answers --version, completion, JSON and the exit codes of docs/cli.md.

The export is Pants' (15-50 s); here ``./pants`` is a stand-in that takes 3 s and makes a venv
whose python is this test's own interpreter (it has the tooling's requirements: the 'common'
resolve), so the wrapper's own behaviour is what is tested, in seconds.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nova_split_tools.testing.scratch import scratch_clone

_FAKE_PANTS = """#!/bin/sh
# stand-in for `./pants export --resolve=common`: slow, then the venv (or a failure)
[ -n "$FAKE_PANTS_FAIL" ] && {{ echo "pants: could not start (stand-in)" >&2; exit 1; }}
sleep 3
mkdir -p "{venvs}/3.11/bin"
printf '#!/bin/sh\\nexec "%s" "$@"\\n' "{python}" >"{venvs}/3.11/bin/python"
chmod +x "{venvs}/3.11/bin/python"
"""


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scratch_clone(tmp_path_factory.mktemp("cli"))


def _fresh(clone: Path, tmp_path: Path) -> Path:
    """A copy of the clone's tooling without an exported venv, whose ./pants is the stand-in."""
    root = tmp_path / "fresh"
    for part in ("build-support", "nova-common"):
        shutil.copytree(clone / part, root / part, symlinks=True)
    venvs = root / "dist/export/python/virtualenvs/common"
    (root / "pants").write_text(_FAKE_PANTS.format(venvs=venvs, python=sys.executable))
    (root / "pants").chmod(0o755)
    return root


def _on_a_terminal(
    argv: list[str], env: dict[str, str], interrupt_after: float | None = None, signum: int = signal.SIGINT
) -> tuple[int, str]:
    """Run ``argv`` with stdout and stderr on a pseudo-terminal; its exit code and what it showed.
    With ``interrupt_after``, ``signum`` then goes to its process group (Ctrl-C; SIGHUP: the
    terminal closed)."""
    master, slave = pty.openpty()
    # Its own session, so an interrupt reaches the whole process group, as Ctrl-C on a terminal does.
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    shown, start = b"", time.monotonic()
    while True:
        if interrupt_after is not None and time.monotonic() - start > interrupt_after and proc.poll() is None:
            os.killpg(proc.pid, signum)
            interrupt_after = None
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal's other side is closed: the program is done
                break
            if not chunk:
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    code = proc.wait(timeout=60)
    os.close(master)
    return code, shown.decode(errors="replace")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NOVA_PROGRESS", "PYTHONPATH")}
    return {**env, "TERM": "xterm"}


def test_first_run_export_shows_progress_on_a_terminal_only(clone: Path, tmp_path: Path) -> None:
    root = _fresh(clone, tmp_path)
    tool = str(root / "build-support/bin/nova-split")
    code, shown = _on_a_terminal([tool, "--repo", str(clone), "--version"], _env())
    assert code == 0, shown
    assert "preparing the tooling (first run after a lockfile change, usually 15-50 s): 2s" in shown, shown
    assert shown.rstrip().endswith(f"nova-split (tooling of nova-common {_version(clone)}, {clone})"), shown
    # Exported now: no progress. Then a fresh export with stderr on a pipe: no progress either.
    code, shown = _on_a_terminal([tool, "--repo", str(clone), "--version"], _env())
    assert code == 0 and "preparing" not in shown, shown
    shutil.rmtree(root / "dist")
    piped = subprocess.run([tool, "--repo", str(clone), "--version"], env=_env(), capture_output=True, text=True)
    assert (piped.returncode, piped.stderr) == (0, ""), piped
    # The venv removed (or its interpreter gone) under a current stamp: exported again, not exit 127.
    venvs = root / "dist/export/python/virtualenvs/common"
    assert (venvs / ".nova-split-lock-sha256").is_file()
    shutil.rmtree(venvs / "3.11")
    again = subprocess.run([tool, "--repo", str(clone), "--version"], env=_env(), capture_output=True, text=True)
    assert (again.returncode, again.stderr) == (0, ""), again
    assert (venvs / "3.11/bin/python").is_file()


def test_first_run_export_failure_is_2_and_interruption_130(clone: Path, tmp_path: Path) -> None:
    root = _fresh(clone, tmp_path)
    tool = str(root / "build-support/bin/nova-split")
    failed = subprocess.run([tool, "--version"], env={**_env(), "FAKE_PANTS_FAIL": "1"}, capture_output=True, text=True)
    assert failed.returncode == 2, failed
    assert failed.stderr.splitlines() == [
        "pants: could not start (stand-in)",
        "nova-split: 'pants export --resolve=common' failed; see the lines above",
    ]
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # Ctrl-C, a group SIGTERM, the terminal closing
        code, shown = _on_a_terminal([tool, "--version"], _env(), interrupt_after=1.5, signum=signum)
        assert code == 130 and "nova-split: interrupted while preparing the tooling" in shown, (signum, shown)
        assert not (root / "dist/export/python/virtualenvs/common/.nova-split-lock-sha256").exists()
    # SIGTERM to the wrapper alone (`kill PID`) does not reach the export, which ends; then the
    # wrapper stops with the line and 130, and the command does not run.
    alone = subprocess.Popen(
        [tool, "--version"],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(1.5)
    alone.send_signal(signal.SIGTERM)
    out, err = alone.communicate(timeout=60)
    assert (alone.returncode, out) == (130, ""), (out, err)
    assert err.splitlines()[-1:] == ["nova-split: interrupted while preparing the tooling"], err
    # The next run starts the export again and succeeds.
    assert subprocess.run([tool, "--repo", str(clone), "--version"], env=_env(), capture_output=True).returncode == 0


def _version(clone: Path) -> str:
    import tomllib

    return str(tomllib.loads((clone / "nova-common/subproject.toml").read_text())["project"]["version"])


def test_the_real_tool_in_a_clone(clone: Path, tmp_path: Path) -> None:
    tool = str(_fresh(clone, tmp_path) / "build-support/bin/nova-split")

    def nova_split(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([tool, "--repo", str(clone), *args], env=_env(), capture_output=True, text=True)

    version = nova_split("--version")
    assert (version.returncode, version.stdout) == (
        0,
        f"nova-split (tooling of nova-common {_version(clone)}, {clone})\n",
    )
    owners = nova_split("owners", "--check", "--format", "json")
    assert owners.returncode == 0 and json.loads(owners.stdout)["schema_version"] == 1, owners
    bad_ref = nova_split("review", "no-such-ref..HEAD")
    assert (bad_ref.returncode, bad_ref.stderr.count("\n")) == (2, 1), bad_ref
    (clone / "drivers/xen/OWNERS").write_text("stale\n")
    stale = nova_split("owners", "--check")
    assert stale.returncode == 1 and "generated file(s) are stale" in stale.stderr, stale
    script = nova_split("completion", "bash").stdout
    offered = subprocess.run(
        ["bash", "--norc", "-c", script + "\nCOMP_WORDS=(nova-split rel); COMP_CWORD=1; _nova_split_complete; "
         'echo "${COMPREPLY[@]}"'],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert offered == "release\n"
