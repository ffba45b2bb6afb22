"""Drivers' tests run without Pants and without the monorepo: nova-common's wheel is built with Pants
once, then each driver's directory ALONE is copied out of a scratch clone and plain `tox` runs there
(its generated tox.ini and pyproject.toml) against that wheel.

Which drivers: ``NOVA_SPLIT_TOX_DRIVERS`` (space-separated; default ``xen``, what CI runs; ``all``:
every driver with a tox.ini, the pre-release check). ``NOVA_SPLIT_TOX_COLD=1`` gives tox an empty
HOME: no pip wheel cache (libvirt-python compiles) and no test-peer cache, as on a contributor's
first run. Both variables are in the test's environment, hence in its cache key::

    NOVA_SPLIT_TOX_DRIVERS=all ./pants test build-support/python/selftests/tox_integration_test.py
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_split_tools.testing.scratch import buildroot, nova_split, scratch_clone, share_tooling_venv
from nova_split_tools.testing.wheels import build_wheel, tox, tox_counts

WITH_TOX = sorted(p.parent.name for p in (buildroot() / "drivers").glob("*/tox.ini"))
_chosen = os.environ.get("NOVA_SPLIT_TOX_DRIVERS", "").split() or ["xen"]
DRIVERS = WITH_TOX if _chosen == ["all"] else _chosen
COLD = os.environ.get("NOVA_SPLIT_TOX_COLD", "") == "1"


@pytest.fixture(scope="module")
def repo_and_wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    tmp = tmp_path_factory.mktemp("tox")
    repo = scratch_clone(tmp)
    share_tooling_venv(repo)
    # tox comes from the 'common' resolve's venv, exported (and kept current) by nova-split.
    checked = nova_split(repo, "packaging", "--check")
    assert checked.returncode == 0, checked.stderr
    yield repo, build_wheel(repo, "nova-common:dist", tmp / "wheels")


def test_chosen_drivers_have_tox_ini() -> None:
    unknown = [d for d in DRIVERS if d not in WITH_TOX]
    assert not unknown, f"NOVA_SPLIT_TOX_DRIVERS names drivers without drivers/<name>/tox.ini: {unknown}"


@pytest.mark.parametrize("driver", [d for d in DRIVERS if d in WITH_TOX])
def test_driver_alone_passes_tox(repo_and_wheel: tuple[Path, Path], tmp_path: Path, driver: str) -> None:
    repo, wheel = repo_and_wheel
    alone = tmp_path / driver
    shutil.copytree(repo / "drivers" / driver, alone)
    home = tmp_path / "home" if COLD else Path.home()
    home.mkdir(exist_ok=True)
    start = time.monotonic()
    result = tox(repo, alone, wheel, home)
    took = time.monotonic() - start
    log = (result.stdout + result.stderr)[-4000:]
    assert result.returncode == 0, f"tox FAILED for {driver} alone ({took:.0f} s):\n{log}"
    print(f"  {driver:8} {tox_counts(result)} (tox: {took:.0f} s)")
