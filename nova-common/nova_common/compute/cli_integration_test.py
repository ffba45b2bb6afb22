"""nova-compute end to end, with drivers found through real distribution metadata.

The fake driver is registered by a real ``*.dist-info`` with the entry point nova-common's wheel
declares (see nova_common.testing.distributions); the wheels themselves are installed and
exercised in a fresh venv by build-support/bin/wheel-smoke-test.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import nova_common.fake_driver  # noqa: F401  (named by the entry point below; a dependency)
from nova_common.compute.cli import main
from nova_common.testing.distributions import install_distribution


@pytest.fixture(autouse=True)
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site"
    install_distribution(
        site, "nova-common", "1.0.0", {"nova.compute.drivers": {"fake": "nova_common.fake_driver:FakeDriver"}}
    )
    monkeypatch.syspath_prepend(str(site))
    yield site


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_fake_driver_lifecycle_via_entry_point(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ("--driver", "fake", "--state-dir", str(tmp_path), "--format", "json")
    code, out, _ = _run(capsys, *base, "boot", "web1", "--flavor", "m1.small")
    assert code == 0
    [row] = json.loads(out)
    assert (row["name"], row["vm_state"], row["power_state"]) == ("web1", "active", "running")
    # Every main() is a fresh compute service. The fake driver keeps guests in memory, so the
    # new service's hypervisor is empty while the record survived, and sync says so.
    code, out, _ = _run(capsys, *base, "host")
    [host] = json.loads(out)
    assert (host["memory_mb"], host["memory_mb_used"]) == (32768, 0)
    code, out, _ = _run(capsys, *base, "list")
    assert [r["name"] for r in json.loads(out)] == ["web1"]
    code, out, _ = _run(capsys, *base, "sync")
    assert {(c["field"], c["new"]) for c in json.loads(out)} == {("power_state", "nostate"), ("vm_state", "error")}


def test_drivers_command_lists_installed_drivers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--format", "json", "drivers")
    assert code == 0
    assert {"driver": "fake", "distribution": "nova-common 1.0.0"} in json.loads(out)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--driver", "hyperx", "list"), "no compute driver named 'hyperx' is installed; installed drivers: fake"),
        (("--driver", "fake", "--driver-opt", "vcpus", "list"), "--driver-opt takes KEY=VALUE, got 'vcpus'"),
        (("--driver", "fake", "--driver-opt", "vcpus=-1", "list"), "invalid option 'vcpus' for driver 'fake'"),
        (("--driver", "fake", "show", "nope"), "no instance named 'nope'"),
    ],
)
def test_expected_failures_are_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, out, err = _run(capsys, "--state-dir", str(tmp_path), *argv)
    assert code == 1
    assert err.startswith("nova-compute: error: " + message)
    assert err.count("\n") == 1 and "Traceback" not in err


def test_incompatible_driver_is_refused_naming_both_ranges(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], site: Path
) -> None:
    # A real distribution on sys.path whose driver was built for driver API 2.x.
    (site / "future_driver.py").write_text(
        "from nova_common.api_version import APIVersionRange\n"
        "from nova_common.fake_driver import FakeDriver\n"
        "class FutureDriver(FakeDriver):\n"
        "    name = 'future'\n"
        "    api_versions = APIVersionRange('2.0', '2.1')\n"
    )
    install_distribution(
        site, "nova-future", "2.0.0", {"nova.compute.drivers": {"future": "future_driver:FutureDriver"}}
    )
    code, _, err = _run(capsys, "--state-dir", str(tmp_path / "state"), "--driver", "future", "list")
    assert code == 1
    assert "driver 'future' supports driver API 2.0-2.1, but this nova-common provides 1.0;" in err
