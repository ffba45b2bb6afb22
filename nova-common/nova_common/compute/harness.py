"""For tests: run ``nova-compute`` as real processes and check records against the hypervisor.

Every command runs in its own Python process started through the ``nova-compute`` console-script
entry point of the distribution metadata on ``sys.path`` (what the installed wheel's script does),
so concurrency and signals are those of real separate commands. Drivers' end-to-end tests use it
with their own entry point and their own way of reading the hypervisor's guests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nova_common.compute.cli  # noqa: F401  (what the processes run: a dependency)
from nova_common.testing.distributions import install_distribution

__all__ = ["Cli", "Result", "assert_agree", "register", "stress"]

# What the console script of an installed nova-common does, found the same way.
_ENTRY = (
    "import sys; from importlib.metadata import entry_points; "
    "[ep] = [e for e in entry_points(group='console_scripts') if e.name == 'nova-compute']; "
    "sys.exit(ep.load()())"
)


def register(site: Path, distribution: str, drivers: Mapping[str, str], console_script: bool = False) -> Path:
    """Write ``distribution``'s metadata with these ``nova.compute.drivers`` entry points (and
    the ``nova-compute`` script when ``console_script``) into ``site``, for :class:`Cli` only:
    the current process's ``sys.path`` is left as it was."""
    entry_points = {"nova.compute.drivers": dict(drivers)}
    if console_script:
        entry_points["console_scripts"] = {"nova-compute": "nova_common.compute.cli:main"}
    before = list(sys.path)
    install_distribution(site, distribution, "1.0.0", entry_points)
    sys.path[:] = before
    return site


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, f"{self.argv} exited {self.code}: {self.err}"
        return json.loads(self.out)

    def one_line_error(self, code: int | None = None) -> str:
        """The error line, asserting it is the only output and no traceback, and the exit code:
        ``code``, or by default 1 or 2 (failed or refused / could not run: docs/cli.md)."""
        assert self.code in (
            (code,) if code is not None else (1, 2)
        ), f"{self.argv} exited {self.code}: {self.out}{self.err}"
        assert "Traceback" not in self.err and self.err.count("\n") == 1, self.err
        assert self.err.startswith("nova-compute: error: "), self.err
        return self.err


@dataclass
class Cli:
    """``nova-compute --state-dir STATE [global options] ...`` as processes."""

    site: Path
    state: Path
    options: Sequence[str] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    #: Run without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, so file permissions bind even for root.
    unprivileged: bool = False

    def argv(self, *args: str) -> list[str]:
        argv = [sys.executable, "-c", _ENTRY, "--state-dir", str(self.state), *self.options, *args]
        if self.unprivileged and os.geteuid() == 0:
            # setpriv (util-linux) drops the capabilities from the bounding set before exec.
            argv = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *argv]
        return argv

    def environ(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(self.site), *(p for p in sys.path if p)])
        env.update(self.env)
        env.update(extra or {})
        return env

    def popen(self, *args: str, env: Mapping[str, str] | None = None, **kwargs: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            env=self.environ(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **kwargs,
        )

    def run(self, *args: str, env: Mapping[str, str] | None = None, **kwargs: Any) -> Result:
        proc = self.popen(*args, env=env, **kwargs)
        out, err = proc.communicate(timeout=300)
        return Result(tuple(args), proc.returncode, out, err)

    def json(self, *args: str) -> Any:
        return self.run("--format", "json", *args).json()

    def records(self) -> dict[str, str]:
        """uuid -> power state of every record, asserting none is stuck mid-boot."""
        rows = self.json("list")
        assert all(r["vm_state"] != "building" for r in rows), rows
        return {r["uuid"]: r["power_state"] for r in rows}


def assert_agree(cli: Cli, guests: Callable[[], dict[str, str]]) -> dict[str, str]:
    """Records and the hypervisor's guests (uuid -> power state) are exactly equal; returns them."""
    records = cli.records()
    on_hypervisor = guests()
    assert records == on_hypervisor, f"records {records} != hypervisor {on_hypervisor}"
    assert cli.run("sync", "--dry-run").out == "in sync: nothing changed\n"
    return records


def stress(cli: Cli, round_no: int, keep: Sequence[str], doomed: Sequence[str]) -> list[Result]:
    """20 mixed commands at once: 8 boots, a delete of each of ``doomed`` (4), a reboot of each
    of ``keep`` (3), 3 lists and 2 syncs. Returns them after asserting that each succeeded."""
    assert (len(keep), len(doomed)) == (3, 4)
    commands: list[tuple[str, ...]] = [("boot", f"r{round_no}-vm{n}", "--flavor", "m1.nano") for n in range(8)]
    commands += [("delete", name) for name in doomed]
    commands += [("reboot", name, "--hard") for name in keep]
    commands += [("list",)] * 3 + [("sync",)] * 2
    commands = commands[::2] + commands[1::2]  # interleave kinds
    started = time.monotonic()
    procs = [(c, cli.popen("--format", "json", *c)) for c in commands]
    results = []
    for args, proc in procs:
        out, err = proc.communicate(timeout=300)
        results.append(Result(args, proc.returncode, out, err))
    failed = [r for r in results if r.code != 0 or "Traceback" in r.err]
    assert not failed, f"after {time.monotonic() - started:.1f}s: {failed}"
    return results
