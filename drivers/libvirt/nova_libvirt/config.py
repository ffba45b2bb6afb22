"""The libvirt driver's options, parsed from the strings the compute service passes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nova_libvirt.exception import LibvirtConfigError

__all__ = ["LibvirtConfig"]

_TEST_STATE = ("persist", "memory")
_OPTIONS = ("uri", "test_state", "virt_type", "image_dir", "kernel", "initrd", "cmdline")


@dataclass(frozen=True)
class LibvirtConfig:
    """Options (all optional):

    ``uri``
        libvirt connection URI. Default ``test:///default``: libvirt's built-in test
        hypervisor, in process, needing no daemon. ``qemu:///embed?root=DIR`` runs libvirt's QEMU
        driver in process (no daemon; guests keep running between processes); ``qemu:///system``
        is a libvirtd.
    ``test_state``
        For ``test:///default`` only. ``persist`` (default) keeps the test hypervisor's guests in
        ``<state dir>/libvirt-test-host.xml`` so they survive restarts of the compute service, as
        a real hypervisor's would; ``memory`` keeps them in the process only.
    ``virt_type``
        Domain type to create: ``test`` for test URIs (default there), else ``qemu`` (TCG, the
        default: works wherever QEMU does) or ``kvm`` (needs ``/dev/kvm`` usable by QEMU's user).
    ``image_dir``
        Real hypervisors only: where images live, one file per image named by its id (qcow2 or
        raw); snapshots are written there too. Default ``<state dir>/images``.
    ``kernel``, ``initrd``, ``cmdline``
        Real hypervisors only: direct kernel boot for images that name no ``kernel_id`` /
        ``ramdisk_id`` / ``os_command_line`` property (as Nova's image properties do). Without a
        kernel the guest boots from its disk.
    """

    uri: str = "test:///default"
    test_state: str = "persist"
    virt_type: str = "test"
    image_dir: str = ""
    kernel: str = ""
    initrd: str = ""
    cmdline: str = "console=ttyS0"

    @property
    def persists_test_state(self) -> bool:
        return self.uri == "test:///default" and self.test_state == "persist"

    @property
    def real_hypervisor(self) -> bool:
        """QEMU guests (``qemu``/``kvm``) rather than libvirt's test hypervisor."""
        return self.virt_type != "test"

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> LibvirtConfig:
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise LibvirtConfigError(
                driver="libvirt", option=unknown[0], reason=f"unknown option; known: {', '.join(_OPTIONS)}"
            )
        uri = options.get("uri", cls.uri)
        if "://" not in uri:
            raise LibvirtConfigError(driver="libvirt", option="uri", reason=f"{uri!r} is not a libvirt URI")
        test_state = options.get("test_state", cls.test_state)
        if test_state not in _TEST_STATE:
            raise LibvirtConfigError(driver="libvirt", option="test_state", reason=f"must be one of {_TEST_STATE}")
        default_type = "test" if uri.startswith("test:") else "qemu"
        virt_type = options.get("virt_type", default_type)
        if virt_type not in ("test", "kvm", "qemu"):
            raise LibvirtConfigError(driver="libvirt", option="virt_type", reason="must be test, kvm or qemu")
        if (virt_type == "test") != uri.startswith("test:"):
            raise LibvirtConfigError(
                driver="libvirt", option="virt_type", reason=f"{virt_type!r} does not fit the URI {uri!r}"
            )
        return cls(
            uri=uri,
            test_state=test_state,
            virt_type=virt_type,
            image_dir=options.get("image_dir", cls.image_dir),
            kernel=options.get("kernel", cls.kernel),
            initrd=options.get("initrd", cls.initrd),
            cmdline=options.get("cmdline", cls.cmdline),
        )
