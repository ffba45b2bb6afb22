"""LibvirtDriver: nova's compute driver over libvirt-python.

Works against any libvirt URI; by default ``test:///default``, libvirt's built-in test hypervisor
(real libvirt code in process, no daemon), persisted across restarts (see :mod:`.embedded_host`).
Guests are domains named ``nova-<instance uuid>`` with the instance uuid as domain UUID and nova's
metadata inside the domain, so the driver finds its guests from the uuid alone and ignores others.

Capabilities on every URI: pause, suspend (managed save) and snapshot. On QEMU (``virt_type``
``qemu`` or ``kvm``) a driver instance also declares volume attach, interface plug and console
output, which real guests prove (``qemu_test.py``); the test hypervisor cannot do live device
changes or consoles, so there they stay undeclared and raise ``NotSupported``.

QEMU guests: a qcow2 overlay root disk per instance in ``<state dir>/instances/<uuid>/`` over an
image from the image directory (:mod:`.images`), direct kernel boot when the image or the options
name a kernel, ACPI, user-mode NICs with the VIFs' MACs and a serial console logged to
``console.log`` there (:func:`.guest_xml.qemu_domain_xml`).
"""

from __future__ import annotations

import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, TypeVar
from xml.sax.saxutils import escape

import libvirt

from nova_common.api_version import APIVersionRange
from nova_common.driver import ComputeDriver
from nova_common.exception import InstanceExists, InstanceNotFound, InvalidPowerState, NodeNotFound, NotSupported
from nova_common.objects import (
    BlockDevice,
    BlockDeviceInfo,
    Capabilities,
    HostResources,
    ImageMeta,
    Instance,
    InstanceInfo,
    NetworkInfo,
    PowerState,
    RebootType,
)
from nova_common.power import graceful_power_off
from nova_common.virtapi import VirtAPI
from nova_libvirt import embedded_host, guest_xml, images
from nova_libvirt.config import LibvirtConfig
from nova_libvirt.exception import LibvirtError

__all__ = ["LibvirtDriver"]

_T = TypeVar("_T")

_POWER_STATE = {
    libvirt.VIR_DOMAIN_NOSTATE: PowerState.NOSTATE,
    libvirt.VIR_DOMAIN_RUNNING: PowerState.RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: PowerState.RUNNING,
    libvirt.VIR_DOMAIN_PAUSED: PowerState.PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: PowerState.SHUTDOWN,
    libvirt.VIR_DOMAIN_SHUTOFF: PowerState.SHUTDOWN,
    libvirt.VIR_DOMAIN_CRASHED: PowerState.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: PowerState.SUSPENDED,
}


def _reason(error: libvirt.libvirtError) -> str:
    return error.get_error_message() or str(error)


def _ignore_libvirt_error(_ctx: object, _error: object) -> None:
    """libvirt prints every error to stderr by default; ours are raised as LibvirtError."""


libvirt.registerErrorHandler(_ignore_libvirt_error, None)

_event_loop_lock = threading.Lock()
_event_loop_started = False
#: Connections to ``qemu:///embed`` URIs, one per URI for the life of the process: each first
#: open of an embedded driver registers it with libvirt anew, and libvirt's driver table is small.
_embedded: dict[str, libvirt.virConnect] = {}

#: On QEMU, every optional operation is proved by real guests.
#: How long a live detach waits for the guest to release the device (TCG guests on a busy host are slow).
DETACH_TIMEOUT_S = 120
#: How often a live detach the guest has not completed is asked again.
DETACH_RETRY_S = 5

QEMU_CAPABILITIES = Capabilities(
    supports_pause=True,
    supports_suspend=True,
    supports_snapshot=True,
    supports_volume_attach=True,
    supports_vif_plug=True,
    supports_console_output=True,
)
#: How much of the console log :meth:`LibvirtDriver.get_console_output` returns (its tail).
CONSOLE_TAIL_BYTES = 100 * 1024


def _force_off(dom: libvirt.virDomain) -> None:
    """Stop a domain hard; fine if it stopped meanwhile. QEMU's exit may be noticed first by
    another thread (a just-started embedded driver still reconnecting to its guests), and then
    libvirt's destroy reports the domain "not running" although it did what was asked."""
    if not dom.isActive():
        return
    try:
        dom.destroy()
    except libvirt.libvirtError:
        if dom.isActive():
            raise


def _interface_finder(mac: str) -> Callable[[str], str | None]:
    """For :meth:`LibvirtDriver._detach`: the NIC with ``mac``, if the domain XML has one."""

    def find(xml: str) -> str | None:
        return guest_xml.interface_xml(mac) if mac in guest_xml.interface_macs(xml) else None

    return find


def _start_event_loop() -> None:
    """libvirt's default event loop in a daemon thread: the embedded QEMU driver needs one (it
    watches QEMU's monitor through it), and connections to a daemon use it for keepalives."""
    global _event_loop_started
    with _event_loop_lock:
        if _event_loop_started:
            return
        libvirt.virEventRegisterDefaultImpl()

        def run() -> None:
            while True:
                libvirt.virEventRunDefaultImpl()

        # Started with the interrupts blocked (it inherits the mask): a signal sent to the
        # process then goes to the main thread, where nova-compute defers or blocks it, and not
        # to this thread, where it would escape that (see nova_common_cli.args.start_without_interrupts).
        held = signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGTERM, signal.SIGHUP))
        try:
            threading.Thread(target=run, name="libvirt-events", daemon=True).start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        _event_loop_started = True


class LibvirtDriver(ComputeDriver):
    """Options: see :class:`nova_libvirt.config.LibvirtConfig`.

    ``capabilities`` is the test hypervisor's set on the class; an instance on QEMU has
    :data:`QEMU_CAPABILITIES`.
    """

    name = "libvirt"
    api_versions = APIVersionRange("1.0", "1.0")

    #: Options that parse without a peer and connect to nothing (constructing the driver never
    #: connects; ``init_host`` does). ``release cut`` installs the wheel in a fresh venv and loads
    #: the driver with them: discovery, API negotiation, import and option parsing, no peer needed.
    smoke_options: ClassVar[Mapping[str, str]] = {"uri": "test:///default"}

    @classmethod
    def smoke_check(cls) -> str:
        """Parse :attr:`smoke_options` with the driver's own config, connecting to nothing; say what passed."""
        config = LibvirtConfig.from_options(cls.smoke_options)
        return f"LibvirtConfig parsed uri={config.uri}"

    capabilities = Capabilities(supports_pause=True, supports_suspend=True, supports_snapshot=True)

    def __init__(self, virtapi: VirtAPI, options: Mapping[str, str]) -> None:
        super().__init__(virtapi, options)
        self.config = LibvirtConfig.from_options(options)
        self._conn: libvirt.virConnect | None = None
        self._embedded: embedded_host.EmbeddedHost | None = None
        if self.config.real_hypervisor:
            self.capabilities = QEMU_CAPABILITIES  # type: ignore[misc]  # per connection, see class doc

    @property
    def image_dir(self) -> Path:
        return Path(self.config.image_dir) if self.config.image_dir else self.virtapi.state_dir / "images"

    def _instance_dir(self, instance: Instance) -> Path:
        return self.virtapi.state_dir / "instances" / instance.uuid

    # -- connection ------------------------------------------------------------------------------

    def init_host(self, host: str) -> None:
        uri = self.config.uri
        if self.config.persists_test_state:
            # Held until cleanup_host: the file is the hypervisor, read once at open.
            self._embedded = embedded_host.EmbeddedHost(self.virtapi.state_dir)
            uri = self._embedded.uri
        if not uri.startswith("test:"):
            _start_event_loop()
        try:
            if uri.startswith("qemu:///embed"):
                with _event_loop_lock:
                    if uri not in _embedded:
                        _embedded[uri] = libvirt.open(uri)
                    self._conn = _embedded[uri]
            else:
                self._conn = libvirt.open(uri)
        except libvirt.libvirtError as e:
            self._release_embedded()
            raise LibvirtError(operation=f"connect to {uri}", reason=_reason(e)) from e

    def cleanup_host(self, host: str) -> None:
        try:
            if self._conn is not None:
                self._save()
                if self._conn not in _embedded.values():
                    self._conn.close()
                self._conn = None
        finally:
            self._release_embedded()

    def _release_embedded(self) -> None:
        if self._embedded is not None:
            self._embedded.close()
            self._embedded = None

    @property
    def conn(self) -> libvirt.virConnect:
        if self._conn is None:
            raise LibvirtError(operation="use the connection", reason="init_host() was not called")
        return self._conn

    def _save(self) -> None:
        if self._embedded is not None and self._conn is not None:
            self._embedded.save(self._conn)

    @contextmanager
    def _changing(self, operation: str) -> Iterator[None]:
        """Translate libvirt errors, and persist the test host after a change."""
        try:
            yield
        except libvirt.libvirtError as e:
            raise LibvirtError(operation=operation, reason=_reason(e)) from e
        finally:
            self._save()

    def _call(self, operation: str, fn: Callable[[], _T]) -> _T:
        try:
            return fn()
        except libvirt.libvirtError as e:
            raise LibvirtError(operation=operation, reason=_reason(e)) from e

    def _domain(self, instance: Instance) -> libvirt.virDomain:
        try:
            return self.conn.lookupByUUIDString(instance.uuid)
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise InstanceNotFound(instance_uuid=instance.uuid) from None
            raise LibvirtError(operation=f"look up {instance.uuid}", reason=_reason(e)) from e

    def _nova_domains(self) -> list[libvirt.virDomain]:
        doms = self._call("list domains", self.conn.listAllDomains)
        return [d for d in doms if guest_xml.is_nova_domain(d.XMLDesc(0))]

    def _state(self, dom: libvirt.virDomain) -> PowerState:
        state = dom.state()[0]
        if state == libvirt.VIR_DOMAIN_SHUTOFF and dom.hasManagedSaveImage(0):
            return PowerState.SUSPENDED
        return _POWER_STATE.get(state, PowerState.NOSTATE)

    def _require(self, instance: Instance, operation: str, *states: PowerState) -> libvirt.virDomain:
        dom = self._domain(instance)
        state = self._state(dom)
        if state not in states:
            raise InvalidPowerState(operation=operation, instance_uuid=instance.uuid, power_state=state.value)
        return dom

    # -- host ------------------------------------------------------------------------------------

    def get_available_nodes(self, refresh: bool = False) -> list[str]:
        return [self._call("get the hostname", self.conn.getHostname)]

    def get_available_resource(self, nodename: str) -> HostResources:
        if nodename not in self.get_available_nodes():
            raise NodeNotFound(nodename=nodename, nodes=self.get_available_nodes())
        model, memory_mb, cpus, *_ = self._call("get host info", self.conn.getInfo)
        used = [guest_xml.flavor_size(d.XMLDesc(0)) for d in self._nova_domains()]
        if self.config.real_hypervisor:
            # Guests' disks live in the state directory: its file system is the host's disk.
            disk_gb = shutil.disk_usage(self.virtapi.state_dir).total // 1024**3
        else:
            pools = self._call("list storage pools", self.conn.listAllStoragePools)
            disk_gb = sum(p.info()[1] for p in pools if p.isActive()) // 1024**3
        return HostResources(
            hypervisor_type=self._call("get the hypervisor type", self.conn.getType),
            hypervisor_version=str(self._call("get the hypervisor version", self.conn.getVersion)),
            hypervisor_hostname=nodename,
            vcpus=cpus,
            vcpus_used=sum(u[0] for u in used),
            memory_mb=memory_mb,
            memory_mb_used=sum(u[1] for u in used),
            local_gb=disk_gb,
            local_gb_used=sum(u[2] for u in used),
            cpu_info={"model": model},
        )

    # -- instances -------------------------------------------------------------------------------

    def list_instances(self) -> list[str]:
        return [d.UUIDString() for d in self._nova_domains()]

    def get_info(self, instance: Instance) -> InstanceInfo:
        dom = self._domain(instance)
        _, max_mem_kb, _, vcpus, cpu_time = self._call("get domain info", dom.info)
        return InstanceInfo(
            state=self._state(dom),
            internal_id=dom.UUIDString(),
            memory_mb=max_mem_kb // 1024,
            vcpus=vcpus,
            cpu_time_ns=cpu_time,
        )

    def spawn(
        self,
        instance: Instance,
        image_meta: ImageMeta,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        try:
            self._domain(instance)
            raise InstanceExists(instance_uuid=instance.uuid)
        except InstanceNotFound:
            pass
        if not self.config.real_hypervisor:
            xml = guest_xml.domain_xml(instance, network_info, self.config.virt_type)
            with self._changing(f"spawn {instance.uuid}"):
                dom = self.conn.defineXML(xml)
                try:
                    dom.create()
                except BaseException:
                    # The contract: a failed spawn leaves no guest behind.
                    self._undefine(dom)
                    raise
            return
        inst_dir = self._instance_dir(instance)
        try:
            inst_dir.mkdir(parents=True)
            boot = self._boot_source(instance, image_meta, inst_dir / "disk")
            xml = guest_xml.qemu_domain_xml(
                instance, network_info, self.config.virt_type, boot, inst_dir / "console.log"
            )
            with self._changing(f"spawn {instance.uuid}"):
                dom = self.conn.defineXML(xml)
                try:
                    dom.create()
                except BaseException:
                    self._undefine(dom)
                    raise
        except BaseException:
            # The contract: a failed spawn leaves no guest and no disk behind.
            shutil.rmtree(inst_dir, ignore_errors=True)
            raise

    def _boot_source(self, instance: Instance, image_meta: ImageMeta, disk: Path) -> guest_xml.BootSource:
        """Create the root disk and say how the guest boots: the image's kernel_id / ramdisk_id /
        os_command_line properties (images in the image directory), else the driver's options."""
        props = image_meta.properties
        images.create_overlay(images.image_file(self.image_dir, image_meta.id), disk, instance.flavor.root_gb)
        kernel: Path | None = None
        initrd: Path | None = None
        if props.get("kernel_id"):
            kernel = images.image_file(self.image_dir, props["kernel_id"])
        elif self.config.kernel:
            kernel = Path(self.config.kernel).resolve()
        if props.get("ramdisk_id"):
            initrd = images.image_file(self.image_dir, props["ramdisk_id"])
        elif self.config.initrd:
            initrd = Path(self.config.initrd).resolve()
        for path in (kernel, initrd):
            if path is not None and not path.is_file():
                raise LibvirtError(operation=f"spawn {instance.uuid}", reason=f"boot file {path} does not exist")
        return guest_xml.BootSource(
            disk=disk,
            kernel=kernel,
            initrd=initrd,
            cmdline=props.get("os_command_line", self.config.cmdline),
            properties={k: v for k, v in props.items() if k in guest_xml.BOOT_PROPERTIES},
        )

    def destroy(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
    ) -> None:
        try:
            dom = self._domain(instance)
        except InstanceNotFound:
            return
        with self._changing(f"destroy {instance.uuid}"):
            _force_off(dom)
            self._undefine(dom)
        if destroy_disks and self.config.real_hypervisor:
            shutil.rmtree(self._instance_dir(instance), ignore_errors=True)

    @staticmethod
    def _undefine(dom: libvirt.virDomain) -> None:
        _force_off(dom)
        for snap in dom.listAllSnapshots():
            snap.delete(0)
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)

    def reboot(self, instance: Instance, network_info: NetworkInfo, reboot_type: RebootType) -> None:
        dom = self._require(instance, "reboot", PowerState.RUNNING)
        with self._changing(f"reboot {instance.uuid}"):
            if reboot_type is RebootType.SOFT:
                dom.reboot(0)
            else:
                dom.reset(0)

    def power_off(self, instance: Instance, timeout: int = 0, retry_interval: int = 0) -> None:
        dom = self._domain(instance)

        def ask_guest() -> bool:
            dom.shutdown()
            return True

        with self._changing(f"power off {instance.uuid}"):
            graceful_power_off(
                timeout=timeout,
                retry_interval=retry_interval,
                is_off=lambda: not dom.isActive(),
                request_shutdown=ask_guest,
                force_off=lambda: _force_off(dom),
            )

    def power_on(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        dom = self._domain(instance)
        with self._changing(f"power on {instance.uuid}"):
            if not dom.isActive():
                dom.create()
            elif self._state(dom) is PowerState.PAUSED:
                dom.resume()

    # -- optional operations ---------------------------------------------------------------------

    def pause(self, instance: Instance) -> None:
        dom = self._require(instance, "pause", PowerState.RUNNING)
        with self._changing(f"pause {instance.uuid}"):
            dom.suspend()

    def unpause(self, instance: Instance) -> None:
        dom = self._require(instance, "unpause", PowerState.PAUSED)
        with self._changing(f"unpause {instance.uuid}"):
            dom.resume()

    def suspend(self, instance: Instance) -> None:
        dom = self._require(instance, "suspend", PowerState.RUNNING)
        with self._changing(f"suspend {instance.uuid}"):
            dom.managedSave(0)

    def resume(self, instance: Instance, network_info: NetworkInfo) -> None:
        dom = self._require(instance, "resume", PowerState.SUSPENDED)
        with self._changing(f"resume {instance.uuid}"):
            dom.create()

    def snapshot(self, instance: Instance, image_id: str) -> ImageMeta:
        dom = self._domain(instance)
        if self.config.real_hypervisor:
            return self._export_snapshot(instance, dom, image_id)
        with self._changing(f"snapshot {instance.uuid}"):
            dom.snapshotCreateXML(f"<domainsnapshot><name>{escape(image_id)}</name></domainsnapshot>", 0)
        return ImageMeta(id=image_id, name=f"snapshot of {instance.name}", disk_format="qcow2")

    def _export_snapshot(self, instance: Instance, dom: libvirt.virDomain, image_id: str) -> ImageMeta:
        """The root disk as a standalone qcow2 image ``<image dir>/<image_id>``, which boots a new
        guest. A running guest is paused meanwhile (pausing QEMU flushes its disk writes)."""
        xml = self._call("read the domain", lambda: dom.XMLDesc(0))
        disk = guest_xml.disk_path(xml, "vda")
        if disk is None:
            raise LibvirtError(operation=f"snapshot {instance.uuid}", reason="the domain has no root disk vda")
        self.image_dir.mkdir(parents=True, exist_ok=True)
        dest = self.image_dir / image_id
        if not images.valid_image_id(image_id):
            raise LibvirtError(operation=f"snapshot {instance.uuid}", reason=f"{image_id!r} is not a plain file name")
        running = self._state(dom) is PowerState.RUNNING
        with self._changing(f"snapshot {instance.uuid}"):
            if running:
                dom.suspend()
            try:
                images.export_image(disk, dest)
            finally:
                if running:
                    dom.resume()
        return ImageMeta(
            id=image_id,
            name=f"snapshot of {instance.name}",
            disk_format="qcow2",
            min_disk_gb=images.virtual_size_gb(dest),
            properties=guest_xml.image_properties(xml),
        )

    def attach_volume(self, instance: Instance, block_device: BlockDevice) -> None:
        """A file volume (``connection_info``: ``driver_volume_type=file``, ``device_path``,
        optional ``format``), hot-plugged on virtio as ``device_name`` with the volume id as its
        serial. Without connection info the volume is local: ``<state dir>/volumes/<id>.qcow2``,
        created empty on first use."""
        self._require_qemu("attach_volume")
        dom = self._domain(instance)
        info = block_device.connection_info
        if info:
            if info.get("driver_volume_type") != "file" or not info.get("device_path"):
                raise LibvirtError(
                    operation=f"attach volume {block_device.volume_id}",
                    reason="connection_info must have driver_volume_type=file and a device_path",
                )
            path = Path(info["device_path"])
            fmt = info.get("format") or images.disk_format(path)
        else:
            path = self.virtapi.state_dir / "volumes" / f"{block_device.volume_id}.qcow2"
            images.create_volume(path, block_device.size_gb)
            fmt = "qcow2"
        xml = self._call("read the domain", lambda: dom.XMLDesc(0))
        if block_device.device_name in guest_xml.disk_targets(xml):
            raise LibvirtError(
                operation=f"attach volume {block_device.volume_id}",
                reason=f"device {block_device.device_name} is already in use",
            )
        device = guest_xml.disk_device_xml(path, fmt, block_device.device_name, serial=block_device.volume_id)
        with self._changing(f"attach volume {block_device.volume_id}"):
            dom.attachDeviceFlags(device, self._device_flags(dom))

    def detach_volume(self, instance: Instance, volume_id: str) -> None:
        self._require_qemu("detach_volume")
        dom = self._domain(instance)
        self._detach(dom, f"detach volume {volume_id}", lambda xml: guest_xml.find_disk_by_serial(xml, volume_id))

    def plug_vifs(self, instance: Instance, network_info: NetworkInfo) -> None:
        """Hot-plug a user-mode NIC for each VIF the guest does not have yet (matched by MAC)."""
        self._require_qemu("plug_vifs")
        dom = self._domain(instance)
        for vif in network_info.vifs:
            xml = self._call("read the domain", lambda: dom.XMLDesc(0))
            if vif.address.lower() not in guest_xml.interface_macs(xml):
                with self._changing(f"plug vif {vif.id}"):
                    dom.attachDeviceFlags(guest_xml.interface_xml(vif.address), self._device_flags(dom))

    def unplug_vifs(self, instance: Instance, network_info: NetworkInfo) -> None:
        """Hot-unplug the guest's NICs with these VIFs' MACs; missing ones are fine."""
        self._require_qemu("unplug_vifs")
        dom = self._domain(instance)
        for vif in network_info.vifs:
            self._detach(dom, f"unplug vif {vif.id}", _interface_finder(vif.address.lower()))

    def get_console_output(self, instance: Instance) -> str:
        """The tail (:data:`CONSOLE_TAIL_BYTES`) of the guest's serial console log."""
        self._require_qemu("get_console_output")
        self._domain(instance)
        log = self._instance_dir(instance) / "console.log"
        try:
            with open(log, "rb") as f:
                f.seek(max(0, log.stat().st_size - CONSOLE_TAIL_BYTES))
                # at most the tail: the guest may write between the stat and the read
                return f.read(CONSOLE_TAIL_BYTES).decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    # -- QEMU device changes ---------------------------------------------------------------------

    def _require_qemu(self, operation: str) -> None:
        if not self.config.real_hypervisor:
            raise NotSupported(driver=self.name, operation=operation)

    @staticmethod
    def _device_flags(dom: libvirt.virDomain) -> int:
        """Change the persistent definition, and the running guest too when there is one."""
        flags: int = libvirt.VIR_DOMAIN_AFFECT_CONFIG
        if dom.isActive():
            flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
        return flags

    def _detach(self, dom: libvirt.virDomain, operation: str, find: Callable[[str], str | None]) -> None:
        """Detach the device ``find`` picks from the persistent and the live definition; no-op
        where it is absent. The guest completes a live unplug on its own (ACPI hot-plug), so this
        waits (up to :data:`DETACH_TIMEOUT_S`, as Nova retries its detaches) until the device is
        gone from the live definition: once it returns, the device name is free again."""
        inactive = self._call("read the domain", lambda: dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        device = find(inactive)
        if device is not None:
            with self._changing(operation):
                dom.detachDeviceFlags(device, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        if not dom.isActive():
            return
        device = find(self._call("read the domain", lambda: dom.XMLDesc(0)))
        if device is None:
            return
        try:
            dom.detachDeviceFlags(device, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        except libvirt.libvirtError as e:
            if e.get_error_code() != libvirt.VIR_ERR_OPERATION_IN_PROGRESS:
                raise LibvirtError(operation=operation, reason=_reason(e)) from e
        # A guest still booting may miss the unplug request (its hot-plug driver is not up yet):
        # ask again every few seconds, as Nova's detach retries do, until the device is gone.
        deadline = time.monotonic() + DETACH_TIMEOUT_S
        asked = time.monotonic()
        while (device := find(self._call("read the domain", lambda: dom.XMLDesc(0)))) is not None:
            now = time.monotonic()
            if now > deadline:
                raise LibvirtError(
                    operation=operation, reason=f"the guest did not release the device within {DETACH_TIMEOUT_S} s"
                )
            if now - asked > DETACH_RETRY_S:
                asked = now
                try:
                    dom.detachDeviceFlags(device, libvirt.VIR_DOMAIN_AFFECT_LIVE)
                except libvirt.libvirtError as e:
                    if e.get_error_code() != libvirt.VIR_ERR_OPERATION_IN_PROGRESS:
                        raise LibvirtError(operation=operation, reason=_reason(e)) from e
            time.sleep(0.2)
