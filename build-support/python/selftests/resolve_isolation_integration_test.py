"""Resolve isolation of the committed drivers (was build-support/bin/resolve-isolation-check)."""

from pathlib import Path

from nova_split_tools.isolation import check_isolation, load_drivers
from nova_split_tools.testing.scratch import scratch_clone


def test_no_drivers_lockfile_holds_another_drivers_client_packages(tmp_path: Path) -> None:
    drivers = load_drivers(scratch_clone(tmp_path))
    assert drivers, "pants.toml registers no driver"
    assert check_isolation(drivers) == []
