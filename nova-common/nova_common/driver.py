"""ComputeDriver: the stable contract between the compute service and a hypervisor driver.

This module *is* the driver API. It changes only in backward-compatible ways within a driver API
major version (see :mod:`nova_common.api_version`). Every method states its inputs, its
postcondition, what it cleans up when it fails, and what it raises.

Rules that hold for every method:

* Arguments are versioned objects (:mod:`nova_common.objects`), never dicts.
* Instances are identified by ``instance.uuid``; a driver must find its guest from the uuid alone
  (after a restart of the compute service too) and must ignore guests it did not create.
* Hypervisor failures are raised as a subclass of :class:`~nova_common.exception.DriverError`
  defined by the driver, never as the client library's own exception type (nor ``ValueError``,
  ``KeyError`` and the like).
* Every method taking an ``instance``, except :meth:`~ComputeDriver.spawn` and
  :meth:`~ComputeDriver.destroy`, raises :class:`~nova_common.exception.InstanceNotFound` when
  the hypervisor has no guest for it (optional operations the driver does not declare raise
  ``NotSupported`` first).
* Optional operations are enabled by :attr:`ComputeDriver.capabilities`; the base class raises
  :class:`~nova_common.exception.NotSupported` for every one the driver does not override.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import ClassVar

from nova_common.api_version import APIVersionRange
from nova_common.exception import NotSupported
from nova_common.objects import (
    BlockDevice,
    BlockDeviceInfo,
    Capabilities,
    HostResources,
    ImageMeta,
    Instance,
    InstanceInfo,
    NetworkInfo,
    RebootType,
)
from nova_common.virtapi import VirtAPI

__all__ = ["ComputeDriver"]


class ComputeDriver(abc.ABC):
    """Base class of every hypervisor driver.

    Subclasses set three class attributes and implement the abstract methods:

    * :attr:`name`: the short public name, equal to the driver's entry point name
      (``nova.compute.drivers`` group), e.g. ``"libvirt"``;
    * :attr:`api_versions`: the driver API versions this driver works with;
    * :attr:`capabilities`: which optional operations it implements.
    """

    name: ClassVar[str]
    api_versions: ClassVar[APIVersionRange]
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, virtapi: VirtAPI, options: Mapping[str, str]) -> None:
        """Parse ``options`` into the driver's own config; do not contact the hypervisor yet.

        ``options`` are the driver's settings as strings (from the command line or the compute
        service's config file). Raises the driver's
        :class:`~nova_common.exception.InvalidDriverConfig` subclass for a missing or malformed
        option, naming the option.
        """
        self.virtapi = virtapi

    # -- host ------------------------------------------------------------------------------------

    @abc.abstractmethod
    def init_host(self, host: str) -> None:
        """Connect to the hypervisor and prepare it to serve ``host``.

        Called once before any other method. Postcondition: the other methods can be called.
        Raises the driver's ``DriverError`` subclass if the hypervisor cannot be reached.
        """

    def cleanup_host(self, host: str) -> None:
        """Release connections and persist driver state; called once at service shutdown.

        Must not raise. The default does nothing.
        """
        return None

    @abc.abstractmethod
    def get_available_nodes(self, refresh: bool = False) -> list[str]:
        """Return the names of the compute nodes this driver manages (usually one: the host).

        ``refresh`` asks the driver to re-read them from the hypervisor instead of a cache.
        """

    @abc.abstractmethod
    def get_available_resource(self, nodename: str) -> HostResources:
        """Return capacity and current usage of ``nodename``.

        ``*_used`` counts every guest the driver manages on the node. Raises the driver's
        ``DriverError`` subclass if the hypervisor cannot answer, and
        :class:`~nova_common.exception.NodeNotFound` for a node not in
        :meth:`get_available_nodes`.
        """

    # -- instances -------------------------------------------------------------------------------

    @abc.abstractmethod
    def list_instances(self) -> list[str]:
        """Return the uuids of the instances this driver has on the hypervisor, in any state.

        Guests not created through this driver are not listed.
        """

    @abc.abstractmethod
    def get_info(self, instance: Instance) -> InstanceInfo:
        """Return what the hypervisor reports about ``instance``.

        Raises :class:`~nova_common.exception.InstanceNotFound` if it has no such guest.
        """

    @abc.abstractmethod
    def spawn(
        self,
        instance: Instance,
        image_meta: ImageMeta,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """Create and start a guest for ``instance``.

        Postcondition: ``get_info(instance).state`` is ``RUNNING`` and ``instance.uuid`` is in
        ``list_instances()``. If this fails, any partial guest must be completely cleaned up
        (no guest, no disks, no plugged interfaces) before the exception propagates.
        Raises :class:`~nova_common.exception.InstanceExists` if the guest already exists (and
        then leaves it untouched), or the driver's ``DriverError`` subclass.
        """

    @abc.abstractmethod
    def destroy(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
    ) -> None:
        """Power off and remove the guest of ``instance``, with its disks if ``destroy_disks``.

        Idempotent: destroying a guest that does not exist (or is half-created) succeeds.
        Postcondition: ``instance.uuid`` is not in ``list_instances()``.
        """

    @abc.abstractmethod
    def reboot(self, instance: Instance, network_info: NetworkInfo, reboot_type: RebootType) -> None:
        """Restart the guest: ``SOFT`` asks the guest OS, ``HARD`` resets it.

        Postcondition: the guest is ``RUNNING``. A driver whose hypervisor cannot do a soft
        reboot falls back to hard. Raises ``InstanceNotFound``, or ``InvalidPowerState`` when the
        guest is not running (reboot does not start a stopped guest).
        """

    @abc.abstractmethod
    def power_off(self, instance: Instance, timeout: int = 0, retry_interval: int = 0) -> None:
        """Stop the guest. ``timeout`` > 0 asks the guest OS first and waits up to ``timeout``
        seconds (polling every ``retry_interval``) before forcing it off.

        Postcondition: the guest is ``SHUTDOWN``. Idempotent on an already stopped guest.
        Raises ``InstanceNotFound``.
        """

    @abc.abstractmethod
    def power_on(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """Start a stopped guest. Postcondition: ``RUNNING``. Idempotent on a running guest.

        Raises ``InstanceNotFound``.
        """

    # -- optional operations: enabled by capabilities -------------------------------------------

    def pause(self, instance: Instance) -> None:
        """Freeze the running guest in memory (``supports_pause``). Postcondition: ``PAUSED``.

        Raises ``InvalidPowerState`` if it is not running, ``NotSupported`` if not declared.
        """
        raise NotSupported(driver=self.name, operation="pause")

    def unpause(self, instance: Instance) -> None:
        """Resume a paused guest (``supports_pause``). Postcondition: ``RUNNING``.

        Raises ``InvalidPowerState`` if it is not paused.
        """
        raise NotSupported(driver=self.name, operation="unpause")

    def suspend(self, instance: Instance) -> None:
        """Save the guest's memory to disk and stop it (``supports_suspend``).

        Postcondition: ``SUSPENDED``. Raises ``InvalidPowerState`` if it is not running.
        """
        raise NotSupported(driver=self.name, operation="suspend")

    def resume(self, instance: Instance, network_info: NetworkInfo) -> None:
        """Restore a suspended guest (``supports_suspend``). Postcondition: ``RUNNING``.

        Raises ``InvalidPowerState`` if it is not suspended.
        """
        raise NotSupported(driver=self.name, operation="resume")

    def snapshot(self, instance: Instance, image_id: str) -> ImageMeta:
        """Capture the guest's disk as image ``image_id`` (``supports_snapshot``).

        Returns the new image's metadata (``id == image_id``). The guest's power state is the
        same afterwards as before. On failure no partial snapshot is left behind.
        """
        raise NotSupported(driver=self.name, operation="snapshot")

    def attach_volume(self, instance: Instance, block_device: BlockDevice) -> None:
        """Attach a volume to the guest (``supports_volume_attach``).

        Raises the driver's ``DriverError`` subclass if the device name is already in use on
        the guest (and then leaves the guest's volumes as they were).
        """
        raise NotSupported(driver=self.name, operation="attach_volume")

    def detach_volume(self, instance: Instance, volume_id: str) -> None:
        """Detach a volume (``supports_volume_attach``). Idempotent if it is not attached."""
        raise NotSupported(driver=self.name, operation="detach_volume")

    def plug_vifs(self, instance: Instance, network_info: NetworkInfo) -> None:
        """Wire the interfaces into the host's networking (``supports_vif_plug``). Idempotent;
        the guest's power state is unchanged."""
        raise NotSupported(driver=self.name, operation="plug_vifs")

    def unplug_vifs(self, instance: Instance, network_info: NetworkInfo) -> None:
        """Unwire the interfaces (``supports_vif_plug``). Idempotent; the guest's power state is
        unchanged."""
        raise NotSupported(driver=self.name, operation="unplug_vifs")

    def get_console_output(self, instance: Instance) -> str:
        """Return the guest's serial console log so far (``supports_console_output``), or its
        tail where the driver bounds it (libvirt returns the last 100 KiB, as Nova's does).

        The log only grows while the guest exists: a later call's result starts with an earlier
        one's, until the log outgrows the driver's bound.
        """
        raise NotSupported(driver=self.name, operation="get_console_output")
