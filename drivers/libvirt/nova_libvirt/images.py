"""Disk files of QEMU guests, made with ``qemu-img``: root-disk overlays, snapshots, volumes.

Images live in the driver's image directory as one file per image, named by the image id
(qcow2 or raw; the format is read from the file, never trusted from the name). Each instance gets
``<state dir>/instances/<uuid>/disk``, a qcow2 overlay over its image sized from the flavor's
``root_gb``, as Nova's qcow2 image backend does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from nova_libvirt.exception import LibvirtError

__all__ = [
    "create_overlay",
    "create_volume",
    "disk_format",
    "export_image",
    "image_file",
    "valid_image_id",
    "virtual_size_gb",
]

_IMAGE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _qemu_img(operation: str, *args: str) -> str:
    try:
        proc = subprocess.run(["qemu-img", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise LibvirtError(operation=operation, reason="qemu-img is not installed (Debian: qemu-utils)") from None
    if proc.returncode != 0:
        raise LibvirtError(operation=operation, reason=proc.stderr.strip() or f"qemu-img exit {proc.returncode}")
    return proc.stdout


def valid_image_id(image_id: str) -> bool:
    """Image ids name files in the image directory: no paths, no leading dot."""
    return bool(_IMAGE_ID.match(image_id))


def image_file(image_dir: Path, image_id: str) -> Path:
    """The file of image ``image_id``; refuses ids that are not plain file names."""
    if not valid_image_id(image_id):
        raise LibvirtError(operation=f"find image {image_id!r}", reason="an image id must be a plain file name")
    path = image_dir / image_id
    if not path.is_file():
        raise LibvirtError(
            operation=f"find image {image_id!r}", reason=f"no file {path}; put the image (qcow2 or raw) there"
        )
    return path.resolve()


def _info(path: Path, operation: str) -> dict[str, object]:
    info: dict[str, object] = json.loads(_qemu_img(operation, "info", "-U", "--output=json", str(path)))
    return info


def disk_format(path: Path) -> str:
    """``qcow2`` or ``raw``, as ``qemu-img`` reads the file."""
    fmt = str(_info(path, f"read {path}").get("format", ""))
    if fmt not in ("qcow2", "raw"):
        raise LibvirtError(operation=f"use {path}", reason=f"format {fmt!r}; images must be qcow2 or raw")
    return fmt


def virtual_size_gb(path: Path) -> int:
    """The disk size a guest of the image sees, in GB rounded up."""
    virtual = int(str(_info(path, f"read {path}").get("virtual-size", 0)))
    return -(-virtual // 1024**3)


def create_overlay(base: Path, disk: Path, size_gb: int) -> None:
    """A qcow2 overlay of ``base`` of ``size_gb`` (or the image's size if that is larger: refused)."""
    fmt = disk_format(base)
    virtual = int(str(_info(base, f"read {base}").get("virtual-size", 0)))
    size = size_gb * 1024**3
    if size and virtual > size:
        raise LibvirtError(
            operation=f"create the root disk from {base.name}",
            reason=f"the image is {virtual} bytes, larger than the flavor's {size_gb} GB root disk",
        )
    _qemu_img(
        f"create the root disk {disk}",
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        str(base),
        "-F",
        fmt,
        str(disk),
        str(size or virtual),
    )


def export_image(disk: Path, dest: Path) -> None:
    """Copy a (possibly running, paused by the caller) guest disk into a standalone qcow2 image.

    Written beside ``dest`` under a temporary name and renamed into place, so a failed or
    interrupted snapshot leaves no image behind.
    """
    if dest.exists():
        raise LibvirtError(operation=f"snapshot to {dest.name}", reason=f"image {dest} already exists")
    tmp = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        _qemu_img(f"snapshot to {dest.name}", "convert", "-U", "-O", "qcow2", str(disk), str(tmp))
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def create_volume(path: Path, size_gb: int) -> None:
    """An empty qcow2 volume (a local volume for a block device given no connection info)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _qemu_img(f"create volume {path.name}", "create", "-q", "-f", "qcow2", str(path), f"{max(size_gb, 1)}G")
