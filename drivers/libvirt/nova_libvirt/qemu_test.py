"""The libvirt driver on real QEMU guests (TCG) under an isolated embedded libvirt.

Proves what libvirt's test hypervisor cannot: guests boot from the driver's domain XML, their root
disk is a flavor-sized overlay that keeps what they write, power and reboot reach the guest OS
(ACPI), device hot-plug is seen by the guest, the console is the guest's serial log. Guests are
shared where a test does not need its own (module-scoped, booted in parallel up front); each
guest's /init reports on its console (:data:`nova_libvirt.guest_image.GUEST_INIT`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import nova_libvirt.driver as driver_module
from nova_common.objects import (
    OPTIONAL_OPERATIONS,
    VIF,
    BlockDevice,
    ImageMeta,
    Instance,
    NetworkInfo,
    PowerState,
    RebootType,
)
from nova_common.testing.factories import RecordingVirtAPI, make_flavor, make_image, make_instance
from nova_libvirt.driver import QEMU_CAPABILITIES, LibvirtDriver
from nova_libvirt.exception import LibvirtError
from nova_libvirt.guest_image import BASE_LABEL
from nova_libvirt.qemu_fixture import Console, QemuHost, qemu_processes

SECTORS_PER_GB = 1024**3 // 512


def _vifs(*macs: str) -> NetworkInfo:
    return NetworkInfo(vifs=[VIF(id=str(uuid.uuid4()), address=m, network_name="private") for m in macs])


@pytest.fixture(scope="module")
def driver(qemu: QemuHost, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LibvirtDriver]:
    drv = LibvirtDriver(RecordingVirtAPI(tmp_path_factory.mktemp("state")), qemu.options())
    drv.init_host("qemu-host")
    yield drv
    drv.cleanup_host("qemu-host")


class Guests:
    """The module's shared guests, spawned together so they boot in parallel."""

    def __init__(self, driver: LibvirtDriver) -> None:
        self.driver = driver
        #: For non-destructive checks: console, pause, suspend, hot-plug.
        self.shared = make_instance(name="shared")
        self.shared_net = _vifs("fa:16:3e:00:00:0a", "fa:16:3e:00:00:0b")
        #: For reboots and power cycles (2 GB root disk: sized from the flavor).
        self.power = make_instance(name="power", flavor=make_flavor(root_gb=2))
        #: Ignores the ACPI power button.
        self.deaf = make_instance(name="deaf")

    def console(self, instance: Instance) -> Console:
        return Console(self.driver.virtapi.state_dir / "instances" / instance.uuid / "console.log")


@pytest.fixture(scope="module")
def guests(driver: LibvirtDriver) -> Iterator[Guests]:
    g = Guests(driver)
    driver.spawn(g.shared, make_image(), g.shared_net)
    driver.spawn(g.power, make_image(), NetworkInfo())
    deaf_image = ImageMeta(id="cirros-0.6", properties={"os_command_line": "console=ttyS0 nova_guest.acpi=off"})
    driver.spawn(g.deaf, deaf_image, NetworkInfo())
    yield g
    for inst in (g.shared, g.power, g.deaf):
        driver.destroy(inst, NetworkInfo())


def test_qemu_driver_declares_what_real_guests_prove(driver: LibvirtDriver) -> None:
    assert driver.capabilities == QEMU_CAPABILITIES
    assert all(getattr(driver.capabilities, flag) for flag in OPTIONAL_OPERATIONS)


def test_spawn_boots_kernel_and_init_with_disk_and_nics(driver: LibvirtDriver, guests: Guests) -> None:
    console = guests.console(guests.shared)
    console.wait_for("ready")
    text = driver.get_console_output(guests.shared)
    assert "Linux version" in text  # the kernel's own banner
    assert console.count(r"boot \S+") == 1
    disk = console.wait_for(r"disk vda (\d+) (.*)")
    assert int(disk.group(1)) == guests.shared.flavor.root_gb * SECTORS_PER_GB
    assert disk.group(2) == BASE_LABEL  # an overlay of the image
    nics = [line.split()[2] for line in console.lines() if line.startswith("nic ")]
    assert nics == [v.address for v in guests.shared_net.vifs]
    assert driver.get_info(guests.shared).state is PowerState.RUNNING


def test_console_output_is_the_serial_log(driver: LibvirtDriver, guests: Guests) -> None:
    console = guests.console(guests.shared)
    console.wait_for("ready")
    output = driver.get_console_output(guests.shared)
    assert "nova-guest: ready" in output
    assert console.text().startswith(output)  # the log, as it was then (the guest keeps writing)


def test_console_output_is_only_the_logs_tail(
    driver: LibvirtDriver, guests: Guests, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guest's log grows without bound: the driver returns its last CONSOLE_TAIL_BYTES only."""
    console = guests.console(guests.shared)
    console.wait_for("ready")
    monkeypatch.setattr(driver_module, "CONSOLE_TAIL_BYTES", 64)
    output = driver.get_console_output(guests.shared)
    after = console.text()  # the log no shorter than when it was read (the guest keeps writing)
    assert len(after) > 1000 and 0 < len(output) <= 64
    assert output in after and not after.startswith(output)


def test_pause_and_unpause_carry_on(driver: LibvirtDriver, guests: Guests) -> None:
    console = guests.console(guests.shared)
    console.wait_for(r"tick \d+")
    driver.pause(guests.shared)
    assert driver.get_info(guests.shared).state is PowerState.PAUSED
    frozen = console.last_tick()
    time.sleep(2.5)
    assert console.last_tick() == frozen  # a paused guest runs nothing
    driver.unpause(guests.shared)
    console.wait_for(rf"tick {frozen + 1}")
    assert console.count(r"boot \S+") == 1


def test_suspend_and_resume_carry_on(driver: LibvirtDriver, guests: Guests) -> None:
    console = guests.console(guests.shared)
    console.wait_for(r"tick \d+")
    driver.suspend(guests.shared)
    assert driver.get_info(guests.shared).state is PowerState.SUSPENDED
    assert qemu_processes_of(driver, guests.shared) == []  # managed save: the QEMU process is gone
    saved = console.last_tick()
    driver.resume(guests.shared, guests.shared_net)
    assert driver.get_info(guests.shared).state is PowerState.RUNNING
    console.wait_for(rf"tick {saved + 1}")
    assert console.count(r"boot \S+") == 1  # restored, not rebooted


def qemu_processes_of(driver: LibvirtDriver, instance: Instance) -> list[int]:
    root = Path(driver.config.uri.split("root=", 1)[1])
    name = f"guest=nova-{instance.uuid}".encode()
    return [p for p in qemu_processes(root) if name in Path(f"/proc/{p}/cmdline").read_bytes()]


def test_volume_hot_plug_is_seen_by_the_guest(driver: LibvirtDriver, guests: Guests, tmp_path: Path) -> None:
    console = guests.console(guests.shared)
    console.wait_for("ready")
    raw = tmp_path / "vol.raw"
    with open(raw, "wb") as f:
        f.write(b"nova-volume:data-1\n")
        f.truncate(16 * 1024 * 1024)
    vol_file = tmp_path / "vol.qcow2"
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(vol_file)], check=True)
    vol = BlockDevice(
        volume_id="vol-1",
        device_name="vdb",
        size_gb=1,
        connection_info={"driver_volume_type": "file", "device_path": str(vol_file)},
    )
    added_before, removed_before = console.count("disk-added .*"), console.count("disk-removed .*")
    driver.attach_volume(guests.shared, vol)
    # The guest names disks in the order it finds them; libvirt's target name is only a hint.
    added = console.wait_for(r"disk-added (vd[a-z]+) (\d+) (.*)", occurrence=added_before + 1)
    assert (int(added.group(2)), added.group(3)) == (16 * 1024 * 1024 // 512, "nova-volume:data-1")
    with pytest.raises(LibvirtError, match="vdb is already in use"):
        driver.attach_volume(guests.shared, vol)
    driver.detach_volume(guests.shared, "vol-1")
    removed = console.wait_for(r"disk-removed (vd[a-z]+)", occurrence=removed_before + 1)
    assert removed.group(1) == added.group(1)
    driver.detach_volume(guests.shared, "vol-1")  # idempotent
    assert driver.get_info(guests.shared).state is PowerState.RUNNING


def test_local_volume_without_connection_info(driver: LibvirtDriver, guests: Guests) -> None:
    console = guests.console(guests.shared)
    console.wait_for("ready")
    vol = BlockDevice(volume_id="vol-local", device_name="vdc", size_gb=1)
    added_before, removed_before = console.count("disk-added .*"), console.count("disk-removed .*")
    driver.attach_volume(guests.shared, vol)
    added = console.wait_for(r"disk-added (vd[a-z]+) (\d+).*", occurrence=added_before + 1)
    assert int(added.group(2)) == SECTORS_PER_GB
    assert (driver.virtapi.state_dir / "volumes" / "vol-local.qcow2").is_file()
    driver.detach_volume(guests.shared, "vol-local")
    assert console.wait_for(r"disk-removed (vd[a-z]+)", occurrence=removed_before + 1).group(1) == added.group(1)


def test_vif_plug_and_unplug_are_seen_by_the_guest(driver: LibvirtDriver, guests: Guests) -> None:
    console = guests.console(guests.shared)
    console.wait_for("ready")
    extra = _vifs("fa:16:3e:00:00:0c")
    assert console.count(r"nic-(added|removed) .*") == 0
    driver.plug_vifs(guests.shared, NetworkInfo(vifs=guests.shared_net.vifs + extra.vifs))
    console.wait_for(r"nic-added \S+ fa:16:3e:00:00:0c")
    driver.plug_vifs(guests.shared, extra)  # idempotent: matched by MAC
    assert console.count(r"nic-added .*") == 1
    driver.unplug_vifs(guests.shared, extra)
    console.wait_for(r"nic-removed \S+ fa:16:3e:00:00:0c")
    driver.unplug_vifs(guests.shared, extra)  # idempotent
    assert console.count(r"nic-removed .*") == 1


def test_root_disk_marker_survives_hard_reboot_and_power_cycle(driver: LibvirtDriver, guests: Guests) -> None:
    inst = guests.power
    console = guests.console(inst)
    marker = console.wait_for(r"marker written (\S+)").group(1)
    assert console.wait_for(r"disk vda (\d+) .*").group(1) == str(2 * SECTORS_PER_GB)

    driver.reboot(inst, NetworkInfo(), RebootType.HARD)
    console.wait_for(r"boot \S+", occurrence=2)
    assert console.wait_for(r"marker found (\S+)").group(1) == marker

    driver.power_off(inst, timeout=120, retry_interval=1)  # graceful: the guest obeys ACPI
    assert driver.get_info(inst).state is PowerState.SHUTDOWN
    assert console.count("power-button") == 1
    driver.power_on(inst, NetworkInfo())
    console.wait_for(r"boot \S+", occurrence=3)
    assert console.wait_for(r"marker found (\S+)", occurrence=2).group(1) == marker


def test_soft_reboot_goes_through_the_guest(driver: LibvirtDriver, guests: Guests) -> None:
    inst = guests.power
    console = guests.console(inst)
    console.wait_for("acpi listening", occurrence=console.count(r"boot \S+"))
    boots = console.count(r"boot \S+")
    presses = console.count("power-button")
    driver.reboot(inst, NetworkInfo(), RebootType.SOFT)
    console.wait_for(r"boot \S+", occurrence=boots + 1)
    assert console.count("power-button") == presses + 1  # ACPI, then libvirt restarts it
    assert driver.get_info(inst).state is PowerState.RUNNING


def test_power_off_forces_a_guest_that_ignores_acpi(driver: LibvirtDriver, guests: Guests) -> None:
    console = guests.console(guests.deaf)
    console.wait_for("acpi ignored")
    console.wait_for("ready")
    started = time.monotonic()
    driver.power_off(guests.deaf, timeout=3, retry_interval=1)
    assert time.monotonic() - started >= 3  # it waited for the guest first
    assert driver.get_info(guests.deaf).state is PowerState.SHUTDOWN
    assert console.count("power-button") == 0


def test_snapshot_is_an_image_that_boots_a_new_guest(driver: LibvirtDriver, guests: Guests) -> None:
    source = guests.power
    console = guests.console(source)
    marker = console.wait_for(r"marker written (\S+)").group(1)
    before = driver.get_info(source).state
    image = driver.snapshot(source, "snap-power")
    assert driver.get_info(source).state is before
    image_file = Path(driver.config.image_dir) / "snap-power"
    info = subprocess.run(["qemu-img", "info", "--output=json", str(image_file)], capture_output=True, text=True)
    assert '"format": "qcow2"' in info.stdout and "backing-filename" not in info.stdout  # standalone
    with pytest.raises(LibvirtError, match="already exists"):
        driver.snapshot(source, "snap-power")

    assert image.min_disk_gb == source.flavor.root_gb  # the image is as large as the disk it copies
    clone = make_instance(name="from-snapshot", image_ref=image.id, flavor=make_flavor(root_gb=image.min_disk_gb))
    driver.spawn(clone, image, NetworkInfo())
    try:
        clone_console = guests.console(clone)
        assert clone_console.wait_for(r"marker found (\S+)").group(1) == marker
        assert clone_console.wait_for(r"disk vda \d+ (.*)").group(1) == BASE_LABEL
    finally:
        driver.destroy(clone, NetworkInfo())
    assert not (driver.virtapi.state_dir / "instances" / clone.uuid).exists()


def test_available_resource_reads_the_real_host(driver: LibvirtDriver, guests: Guests) -> None:
    node = driver.get_available_nodes()[0]
    res = driver.get_available_resource(node)
    assert res.hypervisor_type == "QEMU"
    assert res.vcpus == os.cpu_count()
    mem_total_kb = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
    assert 0 < res.memory_mb <= mem_total_kb // 1024  # libvirt's view: the memory this process may use
    assert res.local_gb == shutil.disk_usage(driver.virtapi.state_dir).total // 1024**3
    assert res.memory_mb_used >= sum(i.flavor.memory_mb for i in (guests.shared, guests.power, guests.deaf))


def test_missing_image_fails_spawn_and_leaves_nothing(driver: LibvirtDriver) -> None:
    inst = make_instance(name="no-image")
    with pytest.raises(LibvirtError, match="no file .*/no-such-image; put the image"):
        driver.spawn(inst, make_image("no-such-image"), NetworkInfo())
    assert inst.uuid not in driver.list_instances()
    assert not (driver.virtapi.state_dir / "instances" / inst.uuid).exists()
    with pytest.raises(LibvirtError, match="plain file name"):
        driver.spawn(inst, make_image("../etc/passwd"), NetworkInfo())


def test_image_larger_than_the_flavor_is_refused(driver: LibvirtDriver) -> None:
    big = Path(driver.config.image_dir) / "big"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(big), "3G"], check=True)
    inst = make_instance(name="big")
    with pytest.raises(LibvirtError, match="larger than the flavor's 1 GB root disk"):
        driver.spawn(inst, make_image("big"), NetworkInfo())
    assert inst.uuid not in driver.list_instances()


_KILLED_CHILD = """
import sys, time
from pathlib import Path
from nova_common.objects import NetworkInfo
from nova_common.testing.factories import RecordingVirtAPI, make_image, make_instance
from nova_libvirt.driver import LibvirtDriver
from nova_libvirt.qemu_fixture import qemu_host
with qemu_host(Path(sys.argv[1])) as host:
    drv = LibvirtDriver(RecordingVirtAPI(Path(sys.argv[1]) / "state"), host.options())
    drv.init_host("h")
    drv.spawn(make_instance(), make_image(), NetworkInfo())
    print(host.root, flush=True)
    time.sleep(600)
"""


def test_no_qemu_outlives_a_killed_test_process(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_CHILD, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert child.stdout is not None
    root = Path(child.stdout.readline().strip())
    assert qemu_processes(root), "the child's guest is running"
    child.send_signal(signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 30
    while (qemu_processes(root) or root.exists()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert qemu_processes(root) == []
    assert not root.exists()
