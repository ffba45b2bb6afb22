"""nova-compute end to end in a driver's tests: the driver found by its entry point, ``main()``
called with the arguments a user would type.

Only end-to-end tests import this module: it pulls the compute service
(:mod:`nova_common.compute`), which the rest of :mod:`nova_common.testing` does not. Usage::

    import nova_xen.driver  # noqa: F401  (named by the wheel's entry point; a dependency)
    from nova_common.testing.cli import installed_wheel, run_json

    _installed = installed_wheel("nova-xen")

    def test_list(capsys, tmp_path):
        assert run_json(capsys, "--driver", "xen", "--state-dir", str(tmp_path), "list") == []
"""

from __future__ import annotations

import importlib.metadata
import json
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest  # pants: no-infer-dep (drivers' test modules depend on pytest themselves)

from nova_common.compute.cli import main
from nova_common.testing.distributions import install_distribution

__all__ = [
    "ERROR_PREFIX",
    "Result",
    "built_wheel",
    "install_dist_info",
    "installed_driver",
    "installed_drivers",
    "installed_wheel",
    "register_wheel",
    "run",
    "run_error",
    "run_json",
]

#: What nova-compute prints before an expected failure's one-line message.
ERROR_PREFIX = "nova-compute: error: "


def installed_driver(
    distribution: str, drivers: Mapping[str, str], version: str = "1.0.0"
) -> Callable[..., Iterator[Path]]:
    """An autouse fixture registering ``drivers`` (short name -> ``module:Class``) through a real
    ``<distribution>-<version>.dist-info`` on ``sys.path`` for the test's duration.

    Assign it to a name in the test module (``_installed = installed_driver(...)``); the fixture
    yields the site directory, where a test may install more distributions.
    """

    def _installed_driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
        site = tmp_path / "site"
        # First: monkeypatch restores sys.path as it was at its first change, so the site must
        # not be on it yet (install_distribution adds it only where it is missing).
        monkeypatch.syspath_prepend(str(site))
        install_distribution(site, distribution, version, {"nova.compute.drivers": dict(drivers)})
        yield site

    # A cast: in resolves whose mypy run sees pytest without its types the decorator is untyped.
    return cast("Callable[..., Iterator[Path]]", pytest.fixture(autouse=True)(_installed_driver))


def installed_wheel(distribution: str) -> Callable[..., Iterator[Path]]:
    """An autouse fixture installing the dist-info of ``distribution``'s own wheel for the test.

    The wheel is the one Pants builds into the test's sandbox from the subproject's
    ``python_distribution`` (the BUILD macros give end-to-end tests
    ``runtime_package_dependencies=[":dist"]``), so the driver is found through the entry point
    its BUILD file declares, with the version its ``subproject.toml`` gives: a wrong entry point
    fails here, as it would for a user who installed the wheel. Only the ``.dist-info`` is
    installed; the code is imported from the sources, as the rest of the test does. Where the
    distribution is installed already (tox in a driver's standalone repository installs the
    package it builds), that installation is used as it is. The fixture yields a site directory
    on ``sys.path``, where a test may install more distributions.
    """

    def _installed_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
        site = tmp_path / "site"
        register_wheel(distribution, Path.cwd(), site)
        monkeypatch.syspath_prepend(str(site))
        yield site

    return cast("Callable[..., Iterator[Path]]", pytest.fixture(autouse=True)(_installed_wheel))


def register_wheel(distribution: str, sandbox: Path, site: Path) -> None:
    """Make ``site`` (created) hold the dist-info of ``distribution``'s wheel built under
    ``sandbox``, unless the distribution is installed already (then ``site`` stays empty)."""
    site.mkdir(parents=True, exist_ok=True)
    if not _is_installed(distribution):
        install_dist_info(built_wheel(distribution, sandbox), site)


def _is_installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def built_wheel(distribution: str, sandbox: Path) -> Path:
    """The one wheel of ``distribution`` under ``sandbox`` (a failed test if there is none or several)."""
    stem = distribution.replace("-", "_")
    found = sorted(sandbox.glob(f"**/{stem}-*.whl"))
    if len(found) != 1:
        what = "no wheel" if not found else f"{len(found)} wheels ({', '.join(p.name for p in found)})"
        pytest.fail(
            f"{what} of {distribution} in the test sandbox {sandbox}: "
            "the test target needs runtime_package_dependencies=[':dist'] (the BUILD macros give it)",
            pytrace=False,
        )
    return found[0]


def install_dist_info(wheel: Path, site: Path) -> Path:
    """Extract the ``.dist-info`` directory of ``wheel`` (and nothing else) into ``site``; returns it."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        infos = sorted({n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(".dist-info")})
        if len(infos) != 1:
            pytest.fail(
                f"{wheel.name} has {len(infos)} .dist-info directories, not one: not a valid wheel", pytrace=False
            )
        archive.extractall(site, [n for n in names if n.startswith(f"{infos[0]}/")])
    return site / infos[0]


@dataclass(frozen=True)
class Result:
    """One nova-compute run: exit code and what it printed."""

    code: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    """Run ``nova-compute *argv`` in this process (a fresh compute service each time)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return Result(code, out, err)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    """Run a command that must succeed; its JSON rows (``[]`` for a command that prints none).

    Pass ``--format json`` in ``argv`` for commands that print rows.
    """
    result = run(capsys, *argv)
    assert result.code == 0, result.err
    return json.loads(result.out) if result.out.strip().startswith("[") else []


def run_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run a command that must fail as an expected failure: exit 1 (the operation failed or was
    refused) or 2 (it could not run as asked: an unknown instance or driver, an unreachable
    hypervisor), and one line on stderr, no traceback. Returns that line's message (without the
    ``nova-compute: error:`` prefix)."""
    result = run(capsys, *argv)
    assert result.code in (1, 2), (result.out, result.err)
    assert result.err.startswith(ERROR_PREFIX), result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err, result.err
    return result.err[len(ERROR_PREFIX) : -1]


def installed_drivers(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """``nova-compute drivers``: short name -> providing distribution, as a user sees them."""
    return {row["driver"]: row["distribution"] for row in run_json(capsys, "--format", "json", "drivers")}
