"""./pants' bootstrap on an empty cache (a scratch HOME).

1. With no CPython 3.9 reachable it fails with exit 1 and one line naming what is missing and how
   to fix it.
2. Two first runs started at the same time both succeed (flock serializes them), print the same
   version, and only one of them bootstraps.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from nova_split_tools.testing.scratch import scratch_clone

MISSING_39 = (
    "pants: Pants {version} needs CPython 3.9 and none was found; install one (e.g. 'pyenv install 3.9') "
    "or set NOVA_PYTHON39=/path/to/python3.9"
)


def pants_version(repo: Path) -> str:
    for line in (repo / "pants.toml").read_text().splitlines():
        if line.startswith("pants_version"):
            return line.split("=", 1)[1].strip().strip('"')
    raise AssertionError("no pants_version in pants.toml")


def test_missing_python39_is_one_line(tmp_path: Path) -> None:
    if any(os.access(p, os.X_OK) for p in ("/usr/bin/python3.9", "/usr/local/bin/python3.9")):
        pytest.skip("this machine has a system python3.9 on a path ./pants always probes")
    repo = scratch_clone(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    # A PATH without pyenv, a HOME without ~/.pyenv, a bad NOVA_PYTHON39.
    proc = subprocess.run(
        [str(repo / "pants"), "--version"],
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "NOVA_PYTHON39": "/nonexistent/python3.9"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc
    assert proc.stderr.splitlines() == [MISSING_39.format(version=pants_version(repo))], proc.stderr
    assert not (home / ".cache/nova-split" / f"pants-{pants_version(repo)}").exists()


def test_two_racing_first_runs_share_one_bootstrap(tmp_path: Path) -> None:
    repo = scratch_clone(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PANTS_PANTSD": "false"}
    # pyenv's shims find 3.9 under PYENV_ROOT; without it, the real HOME's ~/.pyenv.
    env.setdefault("PYENV_ROOT", str(Path(os.environ["HOME"]) / ".pyenv"))
    runs = [
        subprocess.Popen(
            [str(repo / "pants"), "--no-pantsd", "--version"],
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate() for run in runs]
    for run, (_, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, f"a racing first run failed:\n{err}"
    assert outputs[0][0] == outputs[1][0], outputs
    assert outputs[0][0].strip() == pants_version(repo)
    bootstraps = sum(err.count("bootstrapping Pants") for _, err in outputs)
    assert bootstraps == 1, [err for _, err in outputs]
    assert (home / ".cache/nova-split" / f"pants-{pants_version(repo)}" / ".bootstrapped").is_file()
