"""bindep.txt brings what ironic's test peers use (sushy-tools' Redfish emulator over libvirt and
QEMU), as dpkg and apt say.

Each line of bindep.txt is here through something the driver uses from it (directly, or through
a package that depends on it); a line dropped that nothing else brings fails this test on any
machine, not only on a fresh CI runner.
"""

from pathlib import Path

from nova_common.testing.system_packages import unprovided

BINDEP = Path(__file__).parents[1] / "bindep.txt"

NEEDS = [
    # libvirt-python's sdist, for sushy-tools' libvirt driver: compiled against libvirt's headers,
    # found with pkg-config, by gcc
    "/usr/lib/*/pkgconfig/libvirt.pc",
    "command:pkg-config",
    "command:gcc",
    # the Redfish emulator's nodes: QEMU under TCG, through libvirt's embedded QEMU driver
    "command:qemu-system-x86_64",
    "/usr/lib/*/libvirt/connection-driver/libvirt_driver_qemu.so",
    # looked for by libvirt's network code
    "/usr/sbin/dnsmasq",
    # libvirt-daemon-system is listed for the libvirt-qemu user its postinst creates, which dpkg
    # does not record; its QEMU configuration stands for it
    "/etc/libvirt/qemu.conf",
]


def test_bindep_brings_what_the_build_and_the_tests_use() -> None:
    assert unprovided(BINDEP, NEEDS) == {}
