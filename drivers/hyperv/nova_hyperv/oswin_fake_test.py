"""The fake against the real os-win: same methods and signatures, os-win's own exceptions."""

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from os_win import constants, utilsfactory
from os_win import exceptions as os_win_exc
from os_win.utils.compute.vmutils10 import VMUtils10
from os_win.utils.hostutils10 import HostUtils10

from nova_hyperv.oswin_fake import FakeHostUtils, FakeUtilsFactory, FakeVMUtils


def _unwrapped(cls: type, name: str) -> Callable[..., Any]:
    """``cls.name`` as written. os-win's decorators (retry, not-found translation) return a bare
    ``inner(*args, **kwargs)`` without functools.wraps; the decorated function, which has the
    method's own name, sits in that wrapper's closure."""
    fn: Callable[..., Any] = getattr(cls, name)
    while fn.__name__ != name:
        cells = [c.cell_contents for c in fn.__closure__ or ()]
        inner = [f for f in cells if inspect.isfunction(f) and f.__name__ in (name, "inner")]
        assert inner, f"cannot unwrap {cls.__name__}.{name}"
        fn = inner[0]
    return fn


def _public(cls: type) -> list[str]:
    return sorted(n for n, v in vars(cls).items() if callable(v) and not n.startswith("_"))


def _params(fn: Callable[..., Any]) -> list[tuple[str, object, object]]:
    # Names, kinds and defaults; annotations are the fake's own (os-win has none).
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize(
    ("fake", "real"),
    [(FakeVMUtils, VMUtils10), (FakeHostUtils, HostUtils10)],
    ids=["vmutils", "hostutils"],
)
def test_every_fake_method_has_the_real_signature(fake: type, real: type) -> None:
    methods = _public(fake)
    assert methods, "the fake implements nothing?"
    for name in methods:
        assert hasattr(real, name), f"os-win's {real.__name__} has no {name}()"
        assert _params(getattr(fake, name)) == _params(_unwrapped(real, name)), name


def test_the_unwrapping_sees_through_os_win_decorators() -> None:
    assert _params(VMUtils10.set_vm_state)[0][0] == "args"  # what a naive comparison would see
    assert [p[0] for p in _params(_unwrapped(VMUtils10, "set_vm_state"))] == ["self", "vm_name", "req_state"]


def test_factory_functions_have_the_real_signatures() -> None:
    factory = FakeUtilsFactory()
    for name in _public(FakeUtilsFactory):
        real = getattr(utilsfactory, name)
        assert _params(getattr(factory, name)) == _params(real), name


def test_state_machine_ignores_refused_transitions_like_os_win() -> None:
    vmutils = FakeVMUtils()
    vmutils.create_vm("vm", False, constants.VM_GEN_1, "C:\\VMs\\vm", notes=["x"])
    vmutils.set_vm_state("vm", constants.HYPERV_VM_STATE_PAUSED)  # off -> paused: 32775, accepted
    assert vmutils.get_vm_summary_info("vm")["EnabledState"] == constants.HYPERV_VM_STATE_DISABLED
    vmutils.set_vm_state("vm", constants.HYPERV_VM_STATE_ENABLED)
    vmutils.set_vm_state("vm", constants.HYPERV_VM_STATE_PAUSED)
    vmutils.set_vm_state("vm", constants.HYPERV_VM_STATE_SUSPENDED)  # a paused VM can be saved
    assert vmutils.get_vm_summary_info("vm")["EnabledState"] == constants.HYPERV_VM_STATE_SUSPENDED
    with pytest.raises(KeyError):
        vmutils.set_vm_state("vm", constants.HYPERV_VM_STATE_OTHER)
    with pytest.raises(os_win_exc.WMIJobFailed):
        vmutils.destroy_vm("vm")


def test_missing_and_duplicate_vms_raise_os_win_exceptions() -> None:
    vmutils = FakeVMUtils()
    with pytest.raises(os_win_exc.HyperVVMNotFoundException, match="VM not found: ghost"):
        vmutils.get_vm_summary_info("ghost")
    vmutils.create_vm("twin", False, constants.VM_GEN_1, "C:\\VMs")
    vmutils.create_vm("twin", False, constants.VM_GEN_1, "C:\\VMs")
    with pytest.raises(os_win_exc.HyperVException, match="Duplicate VM name found: twin"):
        vmutils.vm_exists("twin")


def test_unknown_drive_is_an_index_error_like_os_win() -> None:
    with pytest.raises(IndexError):
        FakeHostUtils().get_volume_info("Q:")
