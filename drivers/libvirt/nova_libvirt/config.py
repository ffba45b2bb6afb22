"""The libvirt driver's options, parsed from the strings the compute service passes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nova_libvirt.exception import LibvirtConfigError

__all__ = ["LibvirtConfig"]

_TEST_STATE = ("persist", "memory")


@dataclass(frozen=True)
class LibvirtConfig:
    """Options (all optional):

    ``uri``
        libvirt connection URI. Default ``test:///default``: libvirt's built-in test
        hypervisor, in process, needing no daemon.
    ``test_state``
        For ``test:///default`` only. ``persist`` (default) keeps the test hypervisor's guests in
        ``<state dir>/libvirt-test-host.xml`` so they survive restarts of the compute service, as
        a real hypervisor's would; ``memory`` keeps them in the process only.
    ``virt_type``
        Domain type to create: ``test`` for test URIs (default there), else ``kvm`` or ``qemu``.
    """

    uri: str = "test:///default"
    test_state: str = "persist"
    virt_type: str = "test"

    @property
    def persists_test_state(self) -> bool:
        return self.uri == "test:///default" and self.test_state == "persist"

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> LibvirtConfig:
        unknown = sorted(set(options) - {"uri", "test_state", "virt_type"})
        if unknown:
            raise LibvirtConfigError(
                driver="libvirt", option=unknown[0], reason="unknown option; known: uri, test_state, virt_type"
            )
        uri = options.get("uri", cls.uri)
        if "://" not in uri:
            raise LibvirtConfigError(driver="libvirt", option="uri", reason=f"{uri!r} is not a libvirt URI")
        test_state = options.get("test_state", cls.test_state)
        if test_state not in _TEST_STATE:
            raise LibvirtConfigError(driver="libvirt", option="test_state", reason=f"must be one of {_TEST_STATE}")
        default_type = "test" if uri.startswith("test:") else "kvm"
        virt_type = options.get("virt_type", default_type)
        if virt_type not in ("test", "kvm", "qemu"):
            raise LibvirtConfigError(driver="libvirt", option="virt_type", reason="must be test, kvm or qemu")
        return cls(uri=uri, test_state=test_state, virt_type=virt_type)
