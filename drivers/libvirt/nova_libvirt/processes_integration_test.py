"""nova-compute as separate real processes on the embedded libvirt test host.

Every command is its own process started through the ``nova-compute`` console-script entry point
and finds this driver through its ``nova.compute.drivers`` entry point. The hypervisor's guests are
read independently of the compute service: libvirt itself opens the persisted test host.
"""

import threading
from pathlib import Path

import libvirt
import pytest

import nova_libvirt.driver  # noqa: F401  (named by the entry point below; a dependency)
from nova_common.compute.harness import Cli, assert_agree, register, stress
from nova_common.compute.manager import BOOT_STEPS
from nova_libvirt.embedded_host import HOST_FILE, EmbeddedHost
from nova_libvirt.guest_xml import is_nova_domain

_STATE = {
    libvirt.VIR_DOMAIN_RUNNING: "running",
    libvirt.VIR_DOMAIN_PAUSED: "paused",
    libvirt.VIR_DOMAIN_SHUTOFF: "shutdown",
}


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    site = tmp_path / "site"
    register(site, "nova-libvirt", {"libvirt": "nova_libvirt.driver:LibvirtDriver"})
    register(site, "nova-common", {}, console_script=True)
    return Cli(site, tmp_path / "state")


def _guests(cli: Cli) -> dict[str, str]:
    """uuid -> power state of nova's guests, as libvirt reads the persisted host."""
    path = cli.state / HOST_FILE
    if not path.exists():
        return {}
    conn = libvirt.open(f"test://{path}")
    try:
        return {
            d.UUIDString(): _STATE.get(d.state()[0], "other")
            for d in conn.listAllDomains()
            if is_nova_domain(d.XMLDesc(0))
        }
    finally:
        conn.close()


def test_twenty_concurrent_mixed_commands_keep_records_and_guests_equal(cli: Cli) -> None:
    for n in range(7):
        assert cli.run("boot", f"base{n}", "--flavor", "m1.nano").code == 0
    stress(cli, 1, keep=["base0", "base1", "base2"], doomed=["base3", "base4", "base5", "base6"])
    assert len(assert_agree(cli, lambda: _guests(cli))) == 11
    stress(cli, 2, keep=["base0", "base1", "base2"], doomed=["r1-vm0", "r1-vm1", "r1-vm2", "r1-vm3"])
    assert len(assert_agree(cli, lambda: _guests(cli))) == 15


@pytest.mark.parametrize("signal", ["INT", "TERM", "KILL"])
def test_a_boot_interrupted_at_each_step_completes_or_leaves_nothing(cli: Cli, signal: str) -> None:
    for step in range(len(BOOT_STEPS)):
        result = cli.run("boot", f"vm{step}", env={"NOVA_COMPUTE_TEST_SIGNAL": f"{step}:{signal}"})
        if signal == "KILL":
            assert result.code == -9
            cli.run("sync")
        elif step < 2:
            assert result.code == 130 and "boot was rolled back" in result.err
        else:
            assert result.code == 0
        assert_agree(cli, lambda: _guests(cli))
        assert ({r["name"] for r in cli.json("list")} >= {f"vm{step}"}) is (step >= 2)


def test_host_reports_the_test_hosts_figures_as_numbers(cli: Cli) -> None:
    [host] = cli.json("host")
    assert {k: host[k] for k in ("vcpus", "vcpus_used", "memory_mb", "memory_mb_used", "disk_gb", "disk_gb_used")} == {
        "vcpus": 8,
        "vcpus_used": 0,
        "memory_mb": 16384,
        "memory_mb_used": 0,
        "disk_gb": 100,
        "disk_gb_used": 0,
    }


def test_an_oversize_flavor_is_refused(cli: Cli) -> None:
    # The test host's pool has 100 GB; m1.small takes 20: the sixth does not fit.
    for n in range(5):
        assert cli.run("boot", f"m{n}", "--flavor", "m1.small").code == 0
    err = cli.run("boot", "big", "--flavor", "m1.small").one_line_error()
    assert "needs 20 GB of disk, 0 free (100 x allocation ratio 1 - 100 used)" in err
    assert cli.run("boot", "big", "--flavor", "m1.small", "--disk-allocation-ratio", "1.2").code == 0
    assert len(assert_agree(cli, lambda: _guests(cli))) == 6


def test_the_state_dir_refuses_another_connection(cli: Cli) -> None:
    assert cli.run("boot", "web1").code == 0
    other = Cli(cli.site, cli.state, ("--driver-opt", "test_state=memory"))
    err = other.run("sync").one_line_error()
    assert "belongs to driver 'libvirt', not driver 'libvirt' with test_state=memory" in err
    assert len(assert_agree(cli, lambda: _guests(cli))) == 1


def test_embedded_host_is_held_by_one_opener_at_a_time(tmp_path: Path) -> None:
    first = EmbeddedHost(tmp_path)
    opened = threading.Event()

    def second() -> None:
        EmbeddedHost(tmp_path).close()
        opened.set()

    waiter = threading.Thread(target=second)
    waiter.start()
    assert not opened.wait(0.3)  # blocked while the first holds the host
    first.close()
    waiter.join(5)
    assert opened.is_set()
    with pytest.raises(Exception, match="another process has held it for 0s"):
        held = EmbeddedHost(tmp_path)
        try:
            EmbeddedHost(tmp_path, timeout=0.05)
        finally:
            held.close()


def test_a_failed_connection_does_not_bind_the_state_dir(cli: Cli) -> None:
    # (not a test:/// file URI: for a missing file libxml2 itself prints a warning line to stderr)
    unreachable = Cli(cli.site, cli.state, ("--driver-opt", "uri=test+unix:///no/such/socket"))
    assert "failed to connect to test+unix:///no/such/socket" in unreachable.run("list").one_line_error()
    assert cli.run("boot", "web1").code == 0
    assert "belongs to driver 'libvirt', not" in unreachable.run("list").one_line_error()
