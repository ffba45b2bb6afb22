"""The real :class:`~nova_split_tools.release.Toolchain`: Pants builds and tests, pip installs.

Every driver is smoked without a peer: ``nova-compute drivers`` lists it, and ``nova_common.loader``
negotiates the driver API and constructs it with the driver's own ``smoke_options`` (options that
parse without connecting anywhere), after the driver's class-level ``smoke_check()`` parsed them and
a bad option was refused. Drivers whose peer runs in process (libvirt's test hypervisor) and the
fake driver are also booted, listed and deleted through ``nova-compute``.

The generated files are regenerated through :data:`nova_split_tools.generators.ALL`, so a release
commit carries every file derived from the version.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import ssl
import sys
from pathlib import Path

from nova_split_tools.errors import CheckFailed, ToolError
from nova_split_tools.graph import failed_tests
from nova_split_tools.proc import run, status
from nova_split_tools.repo import Repository, worktree
from nova_split_tools.subprojects import Subproject

__all__ = ["PantsToolchain", "RUNNABLE"]

#: Drivers that boot instances without an external peer.
RUNNABLE = ("libvirt", "fake")

_LOAD = """
import sys, tempfile
from importlib import metadata
from pathlib import Path
from nova_common.exception import InvalidDriverConfig
from nova_common.loader import ENTRY_POINT_GROUP, load_driver
from nova_common.virtapi import LocalVirtAPI
name = sys.argv[1]
cls = next(ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == name).load()
options = dict(getattr(cls, "smoke_options", {}))
checked = cls.smoke_check() if hasattr(cls, "smoke_check") else "no smoke_check"
virtapi = LocalVirtAPI(Path(tempfile.mkdtemp()))
loaded = load_driver(name, virtapi, options)
try:
    load_driver(name, virtapi, {**options, "no-such-option": "x"})
except InvalidDriverConfig as e:
    refused = "refuses an unknown option"
else:
    raise SystemExit(name + " accepted the option 'no-such-option': its option parsing did not run")
print(type(loaded.driver).__name__, "driver API", loaded.api_version, "with", sorted(options),
      ";", checked, ";", refused)
"""


def _run(cmd: list[str], cwd: Path, what: str, env: dict[str, str] | None = None) -> str:
    return run(cmd, cwd, what=what, env=env, with_stderr=True)


class PantsToolchain:
    def __init__(self, pantsd: bool = True) -> None:
        self.pantsd = pantsd

    def _pants(self, root: Path, args: list[str], what: str) -> str:
        cmd = [str(root / "pants"), *([] if self.pantsd else ["--no-pantsd"]), *args]
        return _run(cmd, root, what)

    def check_generated(self, root: Path) -> None:
        from nova_split_tools import generators  # loads the Pants graph: only when a cut needs it

        # The generators' diffs and "wrote" lines are steps: stderr, so that stdout stays the
        # release's own output (one JSON document under --format json).
        with contextlib.redirect_stdout(sys.stderr):
            for sync in generators.ALL:
                try:
                    sync(root, True)
                except CheckFailed as e:
                    raise CheckFailed(f"before the release: {e}", e.details) from None
                except ToolError as e:
                    raise ToolError(f"before the release: {e}") from None

    def regenerate(self, root: Path) -> None:
        from nova_split_tools import generators

        with contextlib.redirect_stdout(sys.stderr):
            for sync in generators.ALL:
                sync(root, False)

    def test(self, root: Path, sub: Subproject) -> None:
        cmd = [str(root / "pants"), *([] if self.pantsd else ["--no-pantsd"]), "test", f"{sub.path}::"]
        code, output = status(cmd, root)
        if code != 0:
            # What './pants test' would have shown: the failing tests' output, before the one-line error.
            sys.stderr.write(f"--- the output of './pants test {sub.path}::' ---\n{output.rstrip()}\n---\n")
            failed = sorted(failed_tests(output))
            what = ", ".join(failed) if failed else "see './pants test " + sub.path + "::'"
            raise CheckFailed(f"'./pants test {sub.path}::' failed ({what}); fix the tests, then rerun", failed)

    def package(self, root: Path, sub: Subproject, out: Path) -> Path:
        log = self._pants(root, ["package", f"{sub.path}:dist"], f"'./pants package {sub.path}:dist'")
        wheels = re.findall(r"Wrote (dist/\S+\.whl)", log)
        if len(wheels) != 1:
            raise ToolError(f"'./pants package {sub.path}:dist' wrote {len(wheels)} wheels, expected one")
        out.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(root / wheels[0], out))

    def package_at(self, repo: Repository, rev: str, sub: Subproject, out: Path) -> Path:
        with worktree(repo.root, rev, out / "worktree", force=True) as tree:
            return PantsToolchain(pantsd=False).package(tree, sub, out)

    def smoke(self, wheels: list[Path], driver: str, scratch: Path) -> list[str]:
        python = os.environ.get("NOVA_PYTHON311", sys.executable)
        _run([python, "-m", "venv", str(scratch)], scratch.parent, "creating a venv")
        env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        cafile = ssl.get_default_verify_paths().cafile
        cert = ["--cert", cafile] if cafile and Path(cafile).exists() else []
        if cert:  # also for the pip that installs an sdist's build requirements (it gets no --cert)
            env["PIP_CERT"] = cert[1]
        bin_ = scratch / "bin"
        names = " ".join(w.name for w in wheels)
        _run([str(bin_ / "pip"), "install", "--quiet", *cert, *map(str, wheels)], scratch, f"pip install {names}", env)
        checks = [f"installed {names} in a fresh venv"]
        state = ["--state-dir", str(scratch / "state")]
        listed = _run([str(bin_ / "nova-compute"), *state, "drivers"], scratch, "nova-compute drivers")
        if not re.search(rf"^{re.escape(driver)}\s", listed, re.M):
            raise CheckFailed(f"'nova-compute drivers' does not list {driver} after installing {names}")
        checks.append(f"'nova-compute drivers' lists {driver}")
        # stdout only: a library's warning on stderr (eventlet's, for hyperv) is not the summary
        loaded = run(
            [str(bin_ / "python"), "-c", _LOAD, driver], scratch, what=f"loading {driver} via nova_common.loader"
        )
        checks.append(f"nova_common.loader loads {driver}: {loaded.strip().splitlines()[-1]}")
        if driver not in RUNNABLE:
            checks.append(f"{driver} needs an external peer: checked discovery, negotiation and its smoke options")
            return checks
        nc = [str(bin_ / "nova-compute"), "--driver", driver, *state]
        _run([*nc, "boot", "release-smoke"], scratch, f"nova-compute --driver {driver} boot")
        if "release-smoke" not in _run([*nc, "list"], scratch, "nova-compute list"):
            raise CheckFailed(f"nova-compute --driver {driver} list does not show the booted instance")
        _run([*nc, "delete", "release-smoke"], scratch, f"nova-compute --driver {driver} delete")
        if _run([*nc, "list"], scratch, "nova-compute list").strip() != "(none)":
            raise CheckFailed(f"nova-compute --driver {driver} delete left the instance listed")
        checks.append(f"nova-compute --driver {driver} boot/list/delete passed")
        return checks
