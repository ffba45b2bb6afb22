"""./pants' bootstrap on an empty cache (a scratch HOME).

1. With no CPython 3.9 reachable it fails with exit 1 and one line naming what is missing and how
   to fix it.
2. Two first runs started at the same time both succeed (flock serializes them), print the same
   version, and only one of them bootstraps.
3. Cached venvs whose Python is gone (as on a CI runner whose setup-python moved to a new patch
   release under a restored ~/.cache/nova-split: the venvs' interpreter links dangle) are detected,
   each in one line, and rebuilt; the run succeeds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
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


@dataclass(frozen=True)
class FirstRuns:
    """Two racing first runs of ``./pants --version`` on an empty cache (a scratch HOME)."""

    repo: Path
    home: Path
    env: dict[str, str]
    runs: list[tuple[int, str, str]]  # (exit status, stdout, stderr) each

    @property
    def cache(self) -> Path:
        return self.home / ".cache/nova-split"


@pytest.fixture(scope="module")
def first_runs(tmp_path_factory: pytest.TempPathFactory) -> FirstRuns:
    """One bootstrap for the module (about a minute of CPU); the later tests start from its cache."""
    tmp_path = tmp_path_factory.mktemp("bootstrap")
    repo = scratch_clone(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PANTS_PANTSD": "false"}
    env.pop("XDG_CACHE_HOME", None)  # ensure-system-deps would cache there instead of under HOME
    # pyenv's shims find 3.9 under PYENV_ROOT; without it, the real HOME's ~/.pyenv.
    env.setdefault("PYENV_ROOT", str(Path(os.environ["HOME"]) / ".pyenv"))
    procs = [
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
    outputs = [proc.communicate() for proc in procs]
    runs = [(proc.returncode, out, err) for proc, (out, err) in zip(procs, outputs, strict=True)]
    return FirstRuns(repo, home, env, runs)


def test_two_racing_first_runs_share_one_bootstrap(first_runs: FirstRuns) -> None:
    repo, outputs = first_runs.repo, [(out, err) for _, out, err in first_runs.runs]
    for rc, _, err in first_runs.runs:
        assert rc == 0, f"a racing first run failed:\n{err}"
    assert outputs[0][0] == outputs[1][0], outputs
    assert outputs[0][0].strip() == pants_version(repo)
    bootstraps = sum(err.count("bootstrapping Pants") for _, err in outputs)
    assert bootstraps == 1, [err for _, err in outputs]
    assert (first_runs.cache / f"pants-{pants_version(repo)}" / ".bootstrapped").is_file()


def interpreter_runs(venv: Path) -> bool:
    """True if ``venv``'s interpreter starts (False too if it cannot be executed at all)."""
    try:
        return subprocess.run([str(venv / "bin/python"), "-c", ""], capture_output=True).returncode == 0
    except OSError:  # a dangling link: exec finds no file
        return False


def test_venvs_whose_python_is_gone_are_rebuilt(first_runs: FirstRuns, tmp_path: Path) -> None:
    for rc, _, err in first_runs.runs:
        assert rc == 0, f"the first run failed:\n{err}"
    repo, cache = first_runs.repo, first_runs.cache
    venvs = [cache / f"pants-{pants_version(repo)}", *cache.glob("bindep-*/")]
    assert len(venvs) == 2 and all(interpreter_runs(v) for v in venvs), venvs
    # The Python they were made from is gone: every interpreter link dangles, as under a restored cache
    # on a runner whose tool cache holds another patch release.
    gone = tmp_path / "hostedtoolcache/Python/3.9.0/x64/bin"
    for venv in venvs:
        links = [p for p in (venv / "bin").iterdir() if p.name.startswith("python") and p.is_symlink()]
        assert links, f"{venv}/bin has no interpreter links"
        for link in links:
            link.unlink()
            link.symlink_to(gone / link.name)
        assert not interpreter_runs(venv)
    # A fresh runner's dpkg database differs from the cached stamp's, so bindep runs again.
    shutil.rmtree(cache / "system-deps")
    proc = subprocess.run(
        [str(repo / "pants"), "--no-pantsd", "--version"], cwd=repo, env=first_runs.env, capture_output=True, text=True
    )
    assert proc.returncode == 0, f"the run after the Python went failed:\n{proc.stderr}"
    assert proc.stdout.strip() == pants_version(repo)
    rebuilt = [line for line in proc.stderr.splitlines() if "no longer runs" in line]
    assert rebuilt == [
        f"ensure-system-deps: the cached bindep venv {venvs[1]} no longer runs (its Python is gone or bindep is"
        " damaged); rebuilding it",
        f"pants: the cached Pants venv {venvs[0]} no longer runs (the Python it was made from is gone); rebuilding it",
    ], proc.stderr
    assert all(interpreter_runs(v) for v in venvs), proc.stderr
    assert (venvs[0] / ".bootstrapped").is_file() and (venvs[1] / ".complete").is_file()


def test_a_damaged_bindep_venv_is_rebuilt_not_read_as_package_names(first_runs: FirstRuns) -> None:
    """A bindep venv that starts Python but cannot import bindep's parser (a package deleted from it):
    bindep's traceback once went to ``apt-get install`` as package names. It is rebuilt instead."""
    repo, cache = first_runs.repo, first_runs.cache
    (venv,) = cache.glob("bindep-*/")
    parser = [p for p in venv.glob("lib/python3*/site-packages/*") if p.name.startswith(("parsley", "ometa"))]
    assert parser, f"{venv} holds no parsley"
    for p in parser:
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    shutil.rmtree(cache / "system-deps", ignore_errors=True)
    proc = subprocess.run(
        [str(repo / "build-support/bin/ensure-system-deps")],
        cwd=repo,
        env={**first_runs.env, "NOVA_SPLIT_SYSTEM_DEPS": "build-support"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [
        f"ensure-system-deps: the cached bindep venv {venv} no longer runs (its Python is gone or bindep is"
        " damaged); rebuilding it"
    ], proc.stderr
    assert subprocess.run([str(venv / "bin/python"), "-I", "-c", "import bindep.depends"]).returncode == 0
