"""The driver conformance suite: every driver runs it against itself.

Usage, in a driver's test module (the whole thing is about ten lines)::

    import pytest
    from nova_common.testing.conformance import DriverConformance

    class TestMyDriverConformance(DriverConformance):
        capabilities = MyDriver.capabilities  # what the driver under test declares

        @pytest.fixture
        def driver(self, tmp_path):
            drv = MyDriver(RecordingVirtAPI(tmp_path), {"url": ...})
            drv.init_host("conformance-host")
            yield drv
            drv.cleanup_host("conformance-host")

The class's ``capabilities`` shape the suite when it is collected, so nothing is skipped: a
declared optional operation gets its behaviour tests and a check that the driver overrides its
methods; one left out gets, instead, a check that it raises ``NotSupported`` rather than
pretending to succeed. Every test first checks that the driver declares exactly these
capabilities (a driver whose set depends on its connection, as libvirt's on QEMU, has one class
per set).
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, TypeVar

import pytest  # pants: no-infer-dep (drivers' test modules depend on pytest themselves)

from nova_common.api_version import negotiate
from nova_common.driver import ComputeDriver
from nova_common.exception import (
    DriverError,
    InstanceExists,
    InstanceNotFound,
    InvalidPowerState,
    NodeNotFound,
    NotSupported,
)
from nova_common.objects import (
    OPTIONAL_OPERATIONS,
    BlockDevice,
    Capabilities,
    HostResources,
    Instance,
    InstanceInfo,
    NetworkInfo,
    PowerState,
    RebootType,
)
from nova_common.testing.factories import make_image, make_instance, make_network_info

__all__ = ["DriverConformance"]

_CAPABILITY_FLAGS = sorted(OPTIONAL_OPERATIONS)
_Test = TypeVar("_Test", bound=Callable[..., None])
#: The ``test_*`` methods of an optional operation -> the capability flag they need.
_NEEDS: dict[str, str] = {}


def _needs(flag: str) -> Callable[[_Test], _Test]:
    """Marks a test of an optional operation: collected only for drivers declaring ``flag``."""
    assert flag in OPTIONAL_OPERATIONS, flag

    def mark(test: _Test) -> _Test:
        _NEEDS[test.__name__] = flag
        return test

    return mark


class DriverConformance:
    """Subclass it in a ``*_test.py`` module, set ``capabilities`` and provide a ``driver``
    fixture (see module doc)."""

    #: What the driver under test declares; every subclass sets it (checked against the driver).
    capabilities: ClassVar[Capabilities]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not isinstance(getattr(cls, "capabilities", None), Capabilities):
            raise TypeError(
                f"{cls.__name__}: set capabilities = <YourDriver>.capabilities (the set the driver under test declares)"
            )
        declared = {flag for flag in _CAPABILITY_FLAGS if getattr(cls.capabilities, flag)}
        for name, flag in _NEEDS.items():  # not applicable to this driver: not a test of it at all
            if flag not in declared:
                setattr(cls, name, None)
        if not declared:
            cls.test_declared_capability_is_implemented = None  # type: ignore[assignment,method-assign]
        if len(declared) == len(_CAPABILITY_FLAGS):
            cls.test_undeclared_capability_raises_not_supported = None  # type: ignore[assignment,method-assign]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """The capability checks, one per declared (or left out) flag of this class's set."""
        declared = [flag for flag in _CAPABILITY_FLAGS if getattr(self.capabilities, flag)]
        if metafunc.function.__name__ == "test_declared_capability_is_implemented":
            metafunc.parametrize("flag", declared)
        elif metafunc.function.__name__ == "test_undeclared_capability_raises_not_supported":
            metafunc.parametrize("flag", [flag for flag in _CAPABILITY_FLAGS if flag not in declared])

    @pytest.fixture
    def driver(self, *args: Any, **kwargs: Any) -> Any:
        """Override with a fixture yielding an initialised driver (any fixtures as arguments)."""
        raise NotImplementedError("a DriverConformance subclass must define the 'driver' fixture")

    @pytest.fixture(autouse=True)
    def _declares_the_class_capabilities(self, driver: ComputeDriver) -> None:
        """The suite was shaped by the class's ``capabilities``: the driver must declare exactly those."""
        assert driver.capabilities == self.capabilities, (
            f"{driver.name} declares {driver.capabilities!r}, but {type(self).__name__}.capabilities is"
            f" {self.capabilities!r}: set the class attribute to what this driver declares"
        )

    @pytest.fixture
    def network_info(self) -> NetworkInfo:
        return make_network_info()

    @pytest.fixture
    def instance(self, driver: ComputeDriver, network_info: NetworkInfo) -> Iterator[Instance]:
        """A running instance, destroyed afterwards whatever the test did to it."""
        inst = make_instance(name=f"conf-{uuid.uuid4().hex[:8]}")
        driver.spawn(inst, make_image(), network_info)
        yield inst
        driver.destroy(inst, network_info)

    # -- declarations ----------------------------------------------------------------------------

    def test_declares_name_and_negotiable_api(self, driver: ComputeDriver) -> None:
        assert isinstance(driver.name, str) and driver.name.isidentifier()
        assert negotiate(driver.name, driver.api_versions) in driver.api_versions

    def test_overrides_keep_the_driver_api_signatures(self, driver: ComputeDriver) -> None:
        """Each driver API method the driver overrides takes the API's parameters, in its order,
        with its defaults (the compute service may pass any by position or leave it out); an
        override may add parameters of its own only with defaults."""
        for name, api in vars(ComputeDriver).items():
            own = getattr(type(driver), name, api)
            if name.startswith("_") or not inspect.isfunction(api) or own is api:
                continue
            assert inspect.isfunction(
                own
            ), f"{driver.name}: {name} is a {type(own).__name__}, the driver API's a method"
            wanted = list(inspect.signature(api).parameters.values())
            given = list(inspect.signature(own).parameters.values())
            shown = f"{driver.name}: {name}{inspect.signature(own)}, the driver API has {name}{inspect.signature(api)}"
            # (the default's type too: 0.0 or False is not the API's 0)
            assert [(p.name, p.kind, p.default, type(p.default)) for p in given[: len(wanted)]] == [
                (p.name, p.kind, p.default, type(p.default)) for p in wanted
            ], shown
            extra = given[len(wanted) :]
            assert all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in extra), shown

    def test_declared_capability_is_implemented(self, driver: ComputeDriver, flag: str) -> None:
        assert getattr(driver.capabilities, flag)
        for method in OPTIONAL_OPERATIONS[flag]:
            assert getattr(type(driver), method) is not getattr(
                ComputeDriver, method
            ), f"{driver.name} declares {flag} but does not override {method}()"

    def test_undeclared_capability_raises_not_supported(
        self, driver: ComputeDriver, instance: Instance, network_info: NetworkInfo, flag: str
    ) -> None:
        assert not getattr(driver.capabilities, flag)
        calls = _optional_calls(driver, instance, network_info)
        for method in OPTIONAL_OPERATIONS[flag]:
            with pytest.raises(NotSupported) as raised:
                calls[method]()
            assert raised.value.kwargs == {"driver": driver.name, "operation": method}
        # Refusing changed nothing.
        assert driver.get_info(instance).state is PowerState.RUNNING

    # -- host ------------------------------------------------------------------------------------

    def test_nodes_and_resources(self, driver: ComputeDriver) -> None:
        nodes = driver.get_available_nodes(refresh=True)
        assert nodes and all(isinstance(n, str) for n in nodes)
        res = driver.get_available_resource(nodes[0])
        assert isinstance(res, HostResources)
        assert res.vcpus > 0 and res.memory_mb > 0
        assert 0 <= res.vcpus_used and 0 <= res.memory_mb_used <= res.memory_mb

    def test_unknown_node_is_rejected(self, driver: ComputeDriver) -> None:
        node = "no-such-node-" + uuid.uuid4().hex
        with pytest.raises(NodeNotFound) as raised:
            driver.get_available_resource(node)
        assert raised.value.kwargs["nodename"] == node
        assert isinstance(raised.value, ValueError)  # the type driver API 1.0 named

    def test_resources_count_a_new_instance(self, driver: ComputeDriver, network_info: NetworkInfo) -> None:
        node = driver.get_available_nodes()[0]
        before = driver.get_available_resource(node)
        inst = make_instance(name=f"conf-res-{uuid.uuid4().hex[:8]}")
        driver.spawn(inst, make_image(), network_info)
        try:
            after = driver.get_available_resource(node)
            assert after.memory_mb_used >= before.memory_mb_used + inst.flavor.memory_mb
            assert after.vcpus_used >= before.vcpus_used + inst.flavor.vcpus
        finally:
            driver.destroy(inst, network_info)
        released = driver.get_available_resource(node)
        assert (released.memory_mb_used, released.vcpus_used) == (before.memory_mb_used, before.vcpus_used)

    # -- lifecycle -------------------------------------------------------------------------------

    def test_spawn_lists_and_reports_running(self, driver: ComputeDriver, instance: Instance) -> None:
        assert instance.uuid in driver.list_instances()
        info = driver.get_info(instance)
        assert isinstance(info, InstanceInfo)
        assert info.state is PowerState.RUNNING

    def test_spawn_twice_raises_instance_exists(
        self, driver: ComputeDriver, instance: Instance, network_info: NetworkInfo
    ) -> None:
        with pytest.raises(InstanceExists):
            driver.spawn(instance, make_image(), network_info)
        assert driver.get_info(instance).state is PowerState.RUNNING

    def test_destroy_removes_and_is_idempotent(self, driver: ComputeDriver, network_info: NetworkInfo) -> None:
        inst = make_instance(name=f"conf-del-{uuid.uuid4().hex[:8]}")
        driver.spawn(inst, make_image(), network_info)
        driver.destroy(inst, network_info)
        assert inst.uuid not in driver.list_instances()
        with pytest.raises(InstanceNotFound):
            driver.get_info(inst)
        driver.destroy(inst, network_info)

    def test_unknown_instance_is_not_found(self, driver: ComputeDriver, network_info: NetworkInfo) -> None:
        ghost = make_instance(name="never-spawned")
        calls: dict[str, Callable[[], object]] = {
            "get_info": lambda: driver.get_info(ghost),
            "power_off": lambda: driver.power_off(ghost),
            "power_on": lambda: driver.power_on(ghost, network_info),
            "reboot": lambda: driver.reboot(ghost, network_info, RebootType.HARD),
            **{m: c for m, c in _optional_calls(driver, ghost, network_info).items() if _declares(driver, m)},
        }
        for method, call in calls.items():
            with pytest.raises(InstanceNotFound) as raised:
                call()
            assert raised.value.kwargs["instance_uuid"] == ghost.uuid, method
        assert ghost.uuid not in driver.list_instances()

    @pytest.mark.parametrize("reboot_type", list(RebootType))
    def test_reboot_keeps_running(
        self, driver: ComputeDriver, instance: Instance, network_info: NetworkInfo, reboot_type: RebootType
    ) -> None:
        driver.reboot(instance, network_info, reboot_type)
        assert driver.get_info(instance).state is PowerState.RUNNING

    def test_power_off_and_on(self, driver: ComputeDriver, instance: Instance, network_info: NetworkInfo) -> None:
        driver.power_off(instance)
        assert driver.get_info(instance).state is PowerState.SHUTDOWN
        driver.power_off(instance)  # idempotent
        assert instance.uuid in driver.list_instances()
        driver.power_on(instance, network_info)
        assert driver.get_info(instance).state is PowerState.RUNNING
        driver.power_on(instance, network_info)  # idempotent
        assert driver.get_info(instance).state is PowerState.RUNNING

    def test_reboot_of_stopped_instance_is_refused(
        self, driver: ComputeDriver, instance: Instance, network_info: NetworkInfo
    ) -> None:
        driver.power_off(instance)
        with pytest.raises(InvalidPowerState):
            driver.reboot(instance, network_info, RebootType.HARD)
        assert driver.get_info(instance).state is PowerState.SHUTDOWN

    # -- optional operations ---------------------------------------------------------------------

    @_needs("supports_pause")
    def test_pause_and_unpause(self, driver: ComputeDriver, instance: Instance) -> None:
        driver.pause(instance)
        assert driver.get_info(instance).state is PowerState.PAUSED
        with pytest.raises(InvalidPowerState):
            driver.pause(instance)
        driver.unpause(instance)
        assert driver.get_info(instance).state is PowerState.RUNNING
        with pytest.raises(InvalidPowerState):
            driver.unpause(instance)

    @_needs("supports_suspend")
    def test_suspend_and_resume(self, driver: ComputeDriver, instance: Instance, network_info: NetworkInfo) -> None:
        driver.suspend(instance)
        assert driver.get_info(instance).state is PowerState.SUSPENDED
        driver.resume(instance, network_info)
        assert driver.get_info(instance).state is PowerState.RUNNING
        with pytest.raises(InvalidPowerState):
            driver.resume(instance, network_info)

    @_needs("supports_snapshot")
    def test_snapshot(self, driver: ComputeDriver, instance: Instance) -> None:
        image_id = "snap-" + uuid.uuid4().hex[:8]
        image = driver.snapshot(instance, image_id)
        assert image.id == image_id
        assert driver.get_info(instance).state is PowerState.RUNNING

    @_needs("supports_snapshot")
    def test_snapshot_of_stopped_instance_leaves_it_stopped(self, driver: ComputeDriver, instance: Instance) -> None:
        driver.power_off(instance)
        image_id = "snap-" + uuid.uuid4().hex[:8]
        assert driver.snapshot(instance, image_id).id == image_id
        assert driver.get_info(instance).state is PowerState.SHUTDOWN

    @_needs("supports_volume_attach")
    def test_volume_attach_and_detach(self, driver: ComputeDriver, instance: Instance) -> None:
        # The device name is what a caller can see of an attachment: in use while attached,
        # free again once detached.
        first, second = _volume("vdb"), _volume("vdb")
        driver.attach_volume(instance, first)
        with pytest.raises(DriverError):
            driver.attach_volume(instance, second)
        driver.detach_volume(instance, first.volume_id)
        driver.detach_volume(instance, first.volume_id)  # idempotent
        driver.attach_volume(instance, second)
        driver.detach_volume(instance, second.volume_id)
        assert driver.get_info(instance).state is PowerState.RUNNING

    @_needs("supports_vif_plug")
    def test_vif_plug_and_unplug(self, driver: ComputeDriver, instance: Instance, network_info: NetworkInfo) -> None:
        for operation in (driver.plug_vifs, driver.plug_vifs, driver.unplug_vifs, driver.unplug_vifs):
            operation(instance, network_info)  # each twice: idempotent
            assert driver.get_info(instance).state is PowerState.RUNNING
        driver.power_off(instance)
        driver.plug_vifs(instance, network_info)
        assert driver.get_info(instance).state is PowerState.SHUTDOWN
        assert instance.uuid in driver.list_instances()

    @_needs("supports_console_output")
    def test_console_output(self, driver: ComputeDriver, instance: Instance) -> None:
        first = driver.get_console_output(instance)
        assert isinstance(first, str)
        driver.reboot(instance, make_network_info(), RebootType.HARD)
        assert driver.get_console_output(instance).startswith(first)


def _declares(driver: ComputeDriver, method: str) -> bool:
    return any(getattr(driver.capabilities, f) for f, methods in OPTIONAL_OPERATIONS.items() if method in methods)


def _optional_calls(
    driver: ComputeDriver, instance: Instance, network_info: NetworkInfo
) -> dict[str, Callable[[], object]]:
    """Each optional operation on ``instance``, by method name."""
    return {
        "pause": lambda: driver.pause(instance),
        "unpause": lambda: driver.unpause(instance),
        "suspend": lambda: driver.suspend(instance),
        "resume": lambda: driver.resume(instance, network_info),
        "snapshot": lambda: driver.snapshot(instance, "img"),
        "attach_volume": lambda: driver.attach_volume(instance, _volume()),
        "detach_volume": lambda: driver.detach_volume(instance, "vol"),
        "plug_vifs": lambda: driver.plug_vifs(instance, network_info),
        "unplug_vifs": lambda: driver.unplug_vifs(instance, network_info),
        "get_console_output": lambda: driver.get_console_output(instance),
    }


def _volume(device_name: str = "vdb") -> BlockDevice:
    return BlockDevice(volume_id="vol-" + uuid.uuid4().hex[:8], device_name=device_name, size_gb=1)
