"""nova-compute end to end, with drivers found through real distribution metadata.

The fake driver is registered by the ``.dist-info`` of nova-common's own wheel, which Pants builds
into the test's sandbox (nova_common.testing.cli.installed_wheel): the entry point is the one
nova-common's BUILD declares. The wheels themselves are installed and exercised in a fresh venv
by build-support/python/selftests/wheel_smoke_integration_test.py.
"""

import json
from importlib.metadata import version
from pathlib import Path

import pytest

import nova_common.fake_driver  # noqa: F401  (named by the wheel's entry point; a dependency)
from nova_common.compute.cli import main
from nova_common.testing.cli import installed_drivers, installed_wheel, run, run_error
from nova_common.testing.distributions import install_distribution

site = installed_wheel("nova-common")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    result = run(capsys, *argv)
    return result.code, result.out, result.err


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
    assert installed_drivers(capsys) == {"fake": f"nova-common {version('nova-common')}"}


@pytest.mark.parametrize(
    ("argv", "message", "code"),
    [
        (("--driver", "hyperx", "list"), "no compute driver named 'hyperx' is installed; installed drivers: fake", 2),
        (("--driver", "fake", "--driver-opt", "vcpus", "list"), "--driver-opt takes KEY=VALUE, got 'vcpus'", 2),
        (("--driver", "fake", "--driver-opt", "vcpus=-1", "list"), "invalid option 'vcpus' for driver 'fake'", 2),
        (("--driver", "fake", "show", "nope"), "no instance named 'nope'", 2),
        (("--driver", "fake", "boot", "taken"), "an instance named 'taken' already exists", 1),
    ],
)
def test_expected_failures_are_one_line_with_their_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str, code: int
) -> None:
    assert run(capsys, "--state-dir", str(tmp_path), "--driver", "fake", "boot", "taken").code == 0
    assert run_error(capsys, "--state-dir", str(tmp_path), *argv).startswith(message)
    assert run(capsys, "--state-dir", str(tmp_path), *argv).code == code


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
    err = run_error(capsys, "--state-dir", str(tmp_path / "state"), "--driver", "future", "list")
    assert err.startswith("driver 'future' supports driver API 2.0-2.1, but this nova-common provides 1.0;")


@pytest.mark.parametrize("ratio", ["0", "-1", "nan", "inf", "1e400", "abc"])
def test_allocation_ratios_must_be_positive_and_finite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ratio: str
) -> None:
    argv = ("--driver", "fake", "--state-dir", str(tmp_path), "boot", "vm", "--cpu-allocation-ratio", ratio)
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err == (
        "nova-compute boot: error: argument --cpu-allocation-ratio: "
        f"expected a positive, finite number, got {ratio!r}; see 'nova-compute boot --help'\n"
    )
    assert not (tmp_path / "instances.sqlite").exists()
