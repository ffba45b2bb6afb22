"""The conformance suite's own shape: what a driver's ``capabilities`` make of it, run by pytest."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import nova_common.fake_driver  # noqa: F401  (the generated module's driver; a dependency)
import nova_common.testing.factories  # noqa: F401  (the generated module's VirtAPI; a dependency)
from nova_common.objects import OPTIONAL_OPERATIONS, Capabilities
from nova_common.testing.conformance import DriverConformance

MODULE = """
import pytest

from nova_common.fake_driver import FakeDriver
from nova_common.objects import Capabilities
from nova_common.testing.conformance import DriverConformance
from nova_common.testing.factories import RecordingVirtAPI


class TestPauseOnly(DriverConformance):
    capabilities = Capabilities(supports_pause=True)

    @pytest.fixture
    def driver(self, tmp_path):
        drv = FakeDriver(RecordingVirtAPI(tmp_path), {})
        drv.init_host("h")
        yield drv
        drv.cleanup_host("h")
"""


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pause_only_test.py").write_text(MODULE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", *args, "pause_only_test.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_declared_operations_are_tested_and_the_others_checked_refused_with_no_skip(tmp_path: Path) -> None:
    proc = _pytest(tmp_path, "--collect-only")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tests = {line.split("::")[-1] for line in proc.stdout.splitlines() if "::" in line}
    others = ["supports_console_output", "supports_snapshot", "supports_suspend", "supports_vif_plug"]
    others.append("supports_volume_attach")
    assert {t for t in tests if t.startswith("test_declared_capability")} == {
        "test_declared_capability_is_implemented[supports_pause]"
    }
    assert {t for t in tests if t.startswith("test_undeclared_capability")} == {
        f"test_undeclared_capability_raises_not_supported[{flag}]" for flag in others
    }
    assert "test_pause_and_unpause" in tests and "test_power_off_and_on" in tests
    for absent in ("test_suspend_and_resume", "test_snapshot", "test_volume_attach_and_detach", "test_console_output"):
        assert absent not in tests, absent


def test_a_driver_declaring_another_set_fails_every_test_naming_the_fix(tmp_path: Path) -> None:
    """The fake driver declares every operation, the class only pause: not one test may pass, or skip."""
    proc = _pytest(tmp_path, "-x")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "fake declares Capabilities(" in proc.stdout and "set the class attribute" in proc.stdout, proc.stdout
    assert " skipped" not in proc.stdout and " passed" not in proc.stdout, proc.stdout


def test_a_suite_without_capabilities_is_refused_when_defined() -> None:
    with pytest.raises(TypeError, match=r"^TestNoSet: set capabilities = <YourDriver>\.capabilities"):
        type("TestNoSet", (DriverConformance,), {})
    every = Capabilities(**{flag: True for flag in OPTIONAL_OPERATIONS})
    full = type("TestEverything", (DriverConformance,), {"capabilities": every})
    assert vars(full)["test_undeclared_capability_raises_not_supported"] is None  # nothing left out: no such test
    assert callable(vars(DriverConformance)["test_console_output"]) and "test_console_output" not in vars(full)
