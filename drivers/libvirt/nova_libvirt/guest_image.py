"""A bootable test guest from Debian packages only: a kernel, a busybox initramfs and a base disk.

The kernel comes from ``linux-image-cloud-amd64`` (the versioned ``linux-image-*-cloud-amd64`` it
depends on), busybox from ``busybox-static``; both are fetched with ``apt-get download`` and
unpacked with ``dpkg-deb -x``. The initramfs holds busybox, the few kernel modules the guest needs
(virtio disks and NICs, the ACPI button, evdev for acpid) and :data:`GUEST_INIT`, which reports on
the serial console what the tests check (see its text). The result is cached once per machine in
``~/.cache/nova-split/peers/qemu-guest-<key>/`` where the key covers the package versions and
this file's guest recipe; a ``flock`` serialises concurrent builders and the directory appears by
atomic rename, as vcsim's binary does.

The cache directory's name is what CI's stray-peer check looks for on QEMU command lines
(``-kernel .../nova-split/peers/qemu-guest-...``), so a guest booted from it that outlives its test
is caught.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BASE_LABEL",
    "DEBIAN_PACKAGES",
    "GUEST_INIT",
    "GuestImage",
    "GuestImageUnavailable",
    "build_guest_image",
]

#: Debian packages the guest is made of (downloaded, not installed).
DEBIAN_PACKAGES = ("linux-image-cloud-amd64", "busybox-static")
#: Modules the guest loads, dependencies first is worked out from their ``depends=`` info.
_MODULES = ("virtio_pci", "virtio_blk", "virtio_net", "button", "evdev")
#: Text at offset 0 of the base disk; the guest prints each disk's first bytes.
BASE_LABEL = "nova-image:base"
_BASE_DISK_MB = 64
_RECIPE_VERSION = "1"

#: The guest's /init. Lines it prints start with ``nova-guest:`` so tests can parse them:
#: ``boot``, ``disk <name> <sectors> <head>``, ``marker found|written <value>`` (root disk offset
#: 4096), ``nic <name> <mac>``, ``disk-added``/``disk-removed``/``nic-added``/``nic-removed``,
#: ``tick <n>`` every second, ``power-button`` before it powers off. The kernel command line
#: option ``nova_guest.acpi=off`` makes it ignore the power button (a guest that will not shut down).
GUEST_INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "nova-guest: $*" > /dev/ttyS0; }
say "boot $(cat /proc/sys/kernel/random/boot_id)"
echo 1 > /proc/sys/kernel/printk  # the kernel has shown itself; keep its messages out of our lines
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko 2>/dev/null; done
case " $(cat /proc/cmdline) " in
  *" nova_guest.acpi=off "*) say "acpi ignored" ;;
  *) acpid -c /etc/acpi -l /dev/null; say "acpi listening" ;;
esac
head_of() { dd if=/dev/$1 bs=64 count=1 2>/dev/null | tr -d '\000' | head -n 1; }
disks() { for d in /sys/block/vd*; do [ -e "$d" ] && echo "${d##*/}"; done; }
nics() { for n in /sys/class/net/*; do [ "${n##*/}" = lo ] || echo "${n##*/} $(cat $n/address)"; done; }
sleep 1
for d in $(disks); do say "disk $d $(cat /sys/block/$d/size) $(head_of $d)"; done
if [ -b /dev/vda ]; then
  marker=$(dd if=/dev/vda bs=64 skip=64 count=1 2>/dev/null | tr -d '\000' | head -n 1)
  case "$marker" in
    nova-marker:*) say "marker found $marker" ;;
    *) marker="nova-marker:$(cat /proc/sys/kernel/random/uuid)"
       printf '%s\n' "$marker" | dd of=/dev/vda bs=64 seek=64 conv=notrunc,fsync 2>/dev/null
       sync; say "marker written $marker" ;;
  esac
fi
nics | while read n mac; do ip link set "$n" up; say "nic $n $mac"; done
say "ready"
old_disks=$(disks); old_nics=$(nics); n=0
while true; do
  sleep 1; n=$((n + 1)); say "tick $n"
  new_disks=$(disks); new_nics=$(nics)
  for d in $new_disks; do
    case " $(echo $old_disks) " in *" $d "*) ;; *) say "disk-added $d $(cat /sys/block/$d/size) $(head_of $d)" ;; esac
  done
  for d in $old_disks; do
    case " $(echo $new_disks) " in *" $d "*) ;; *) say "disk-removed $d" ;; esac
  done
  echo "$new_nics" | while read nm mac; do
    [ -n "$nm" ] || continue
    echo "$old_nics" | grep -q "^$nm $mac\$" || say "nic-added $nm $mac"
  done
  echo "$old_nics" | while read nm mac; do
    [ -n "$nm" ] || continue
    echo "$new_nics" | grep -q "^$nm $mac\$" || say "nic-removed $nm $mac"
  done
  old_disks=$new_disks; old_nics=$new_nics
done
"""

#: busybox acpid runs ``<confdir>/PWRF/00000080`` on a power button press.
_POWER_BUTTON = """#!/bin/sh
echo "nova-guest: power-button" > /dev/ttyS0
sync
poweroff -f
"""


class GuestImageUnavailable(RuntimeError):
    """The guest cannot be built on this machine (no apt, no package lists, no qemu-img...)."""


@dataclass(frozen=True)
class GuestImage:
    """A built guest: direct-boot kernel and initramfs, and a small qcow2 base disk."""

    kernel: Path
    initrd: Path
    base_disk: Path
    cmdline: str = "console=ttyS0 panic=-1"


def _run(argv: list[str], cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise GuestImageUnavailable(f"cannot build the test guest: '{argv[0]}' is not installed") from None
    if proc.returncode != 0:
        raise GuestImageUnavailable(f"'{' '.join(argv)}' failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout


def _field(package: str, field: str) -> str:
    out = _run(["apt-cache", "show", "--no-all-versions", package])
    for line in out.splitlines():
        if line.startswith(f"{field}: "):
            return line.split(": ", 1)[1].strip()
    if field == "Depends":
        return ""
    raise GuestImageUnavailable(f"apt-cache shows no {field} for {package}; run 'apt-get update' and retry")


def resolve_packages() -> dict[str, str]:
    """Package name -> candidate version: busybox-static and the kernel the metapackage names."""
    kernel = next(
        (dep.split()[0] for dep in _field("linux-image-cloud-amd64", "Depends").split(",") if "linux-image-" in dep),
        None,
    )
    if kernel is None:
        raise GuestImageUnavailable("linux-image-cloud-amd64 depends on no linux-image-* package")
    return {pkg: _field(pkg, "Version") for pkg in (kernel, "busybox-static")}


def _cache_root() -> Path:
    return Path.home() / ".cache" / "nova-split" / "peers"


def _key(packages: dict[str, str]) -> str:
    """Package versions plus everything this module puts into the guest."""
    parts = [_RECIPE_VERSION, GUEST_INIT, _POWER_BUTTON, *_MODULES, *(f"{p}={v}" for p, v in sorted(packages.items()))]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def build_guest_image(cache: Path | None = None) -> GuestImage:
    """The guest for the current package versions, built on first use and cached."""
    packages = resolve_packages()
    root = cache or _cache_root()
    final = root / f"qemu-guest-{_key(packages)}"
    image = GuestImage(kernel=final / "vmlinuz", initrd=final / "initrd.gz", base_disk=final / "base.qcow2")
    if final.is_dir():
        return image
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "qemu-guest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if final.is_dir():  # built by a concurrent process while we waited
            return image
        with tempfile.TemporaryDirectory(dir=root, prefix="qemu-guest-build-") as tmp:
            work = Path(tmp)
            out = work / "out"
            out.mkdir()
            _build(packages, work, out)
            for path in out.iterdir():
                path.chmod(0o644)
            out.chmod(0o755)
            os.replace(out, final)
    return image


def _build(packages: dict[str, str], work: Path, out: Path) -> None:
    debs = work / "debs"
    debs.mkdir()
    _run(["apt-get", "download", "-o", "APT::Sandbox::User=root", *(f"{p}={v}" for p, v in packages.items())], cwd=debs)
    tree = work / "tree"
    for deb in sorted(debs.glob("*.deb")):
        _run(["dpkg-deb", "-x", str(deb), str(tree)])
    vmlinuz = next(iter(sorted((tree / "boot").glob("vmlinuz-*"))), None)
    if vmlinuz is None:
        raise GuestImageUnavailable("the kernel package holds no /boot/vmlinuz-*")
    shutil.copy(vmlinuz, out / "vmlinuz")
    busybox = tree / "bin" / "busybox"
    (out / "initrd.gz").write_bytes(gzip.compress(_initramfs(tree, busybox, work / "initramfs"), mtime=0))
    base = out / "base.qcow2"
    raw = work / "base.raw"
    with open(raw, "wb") as f:
        f.write(BASE_LABEL.encode().ljust(512, b"\0"))
        f.truncate(_BASE_DISK_MB * 1024 * 1024)
    _run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(base)])


def _module_files(tree: Path) -> dict[str, Path]:
    return {ko.name.removesuffix(".ko").replace("-", "_"): ko for ko in (tree / "lib" / "modules").rglob("*.ko")}


def _depends(ko: Path) -> list[str]:
    """The ``depends=`` list of a module's ``.modinfo`` section."""
    data = ko.read_bytes()
    at = data.find(b"\0depends=")
    if at < 0:
        return []
    value = data[at + len(b"\0depends=") : data.index(b"\0", at + 1)].decode()
    return [d for d in value.split(",") if d]


def _load_order(files: dict[str, Path]) -> list[str]:
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        if name not in files:
            raise GuestImageUnavailable(f"kernel module {name} is not in the kernel package")
        for dep in _depends(files[name]):
            visit(dep)
        order.append(name)

    for name in _MODULES:
        visit(name)
    return order


def _initramfs(tree: Path, busybox: Path, staging: Path) -> bytes:
    """A newc cpio archive (packed by busybox's own cpio) of busybox, modules and /init."""
    for d in ("bin", "proc", "sys", "dev", "lib/modules", "etc/acpi/PWRF", "tmp", "var/run"):
        (staging / d).mkdir(parents=True, exist_ok=True)
    shutil.copy(busybox, staging / "bin" / "busybox")
    files = _module_files(tree)
    order = _load_order(files)
    for name in order:
        shutil.copy(files[name], staging / "lib" / "modules" / f"{name}.ko")
    (staging / "lib" / "modules" / "order").write_text("\n".join(order) + "\n")
    (staging / "init").write_text(GUEST_INIT)
    (staging / "etc" / "acpi" / "PWRF" / "00000080").write_text(_POWER_BUTTON)
    for exe in ("bin/busybox", "init", "etc/acpi/PWRF/00000080"):
        (staging / exe).chmod(0o755)
    names = sorted(str(p.relative_to(staging)) for p in staging.rglob("*"))
    proc = subprocess.run(
        [str(busybox), "cpio", "-o", "-H", "newc"],
        cwd=staging,
        input="\n".join(names).encode() + b"\n",
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise GuestImageUnavailable(f"busybox cpio failed: {proc.stderr.decode().strip()}")
    return proc.stdout


def main() -> int:
    """``python3 guest_image.py``: build (or find) the guest and print its files as options."""
    try:
        image = build_guest_image()
    except GuestImageUnavailable as e:
        print(f"guest_image: {e}", file=sys.stderr)
        return 1
    print(f"kernel={image.kernel}")
    print(f"initrd={image.initrd}")
    print(f"base_disk={image.base_disk}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
