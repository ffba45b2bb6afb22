"""``guest_image.py`` as the README runs it: ``eval "$(python3 .../guest_image.py)"`` in bash.

The first run on a machine builds the guest from Debian packages (``apt-get download``); later
runs find it in the cache.
"""

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nova_libvirt import guest_image

_SCRIPT = Path(__file__).with_name("guest_image.py")

# The README's line, with the command's status kept (a bare `eval "$(...)"` would hide it), then
# the variables it set, one per line.
_README = 'out="$(python3 "$0")" || exit; eval "$out"; printf "%s\\n" "$kernel" "$initrd" "$base_disk"'


def test_the_readme_command_sets_the_three_cached_files(capsys: pytest.CaptureFixture[str]) -> None:
    runs = [subprocess.run(["bash", "-c", _README, _SCRIPT], capture_output=True, text=True) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert runs[0].stdout == runs[1].stdout  # built once, then found in the cache
    kernel, initrd, base_disk = (Path(p) for p in runs[0].stdout.splitlines())
    assert (kernel.name, initrd.name, base_disk.name) == ("vmlinuz", "initrd.gz", "base.qcow2")
    cache = kernel.parent
    assert initrd.parent == cache and base_disk.parent == cache
    assert cache.name.startswith("qemu-guest-") and cache.parent.parts[-2:] == ("nova-split", "peers")
    for path in (kernel, initrd, base_disk):
        assert path.is_file() and path.stat().st_mode & 0o777 == 0o644, path  # readable by libvirt-qemu
    assert kernel.read_bytes()[0x202:0x206] == b"HdrS"  # a bzImage the QEMU can boot directly
    assert gzip.decompress(initrd.read_bytes())[:6] == b"070701"  # a newc cpio archive
    assert base_disk.read_bytes()[:4] == b"QFI\xfb"
    info = json.loads(
        subprocess.run(["qemu-img", "info", "--output=json", base_disk], capture_output=True, check=True).stdout
    )
    assert (info["format"], info["virtual-size"]) == ("qcow2", 64 * 1024 * 1024)
    # Called as a function (how other Python code would), main says the same and returns 0.
    assert guest_image.main() == 0
    assert capsys.readouterr().out == f"kernel={kernel}\ninitrd={initrd}\nbase_disk={base_disk}\n"


def test_without_apt_cache_it_says_so_in_one_line_and_exits_1(tmp_path: Path) -> None:
    # A PATH with python3 (this interpreter, not a launcher that needs more of PATH) and bash only.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    bash = shutil.which("bash")
    assert bash is not None
    (bin_dir / "bash").symlink_to(bash)
    (bin_dir / "python3").symlink_to(os.path.realpath(sys.executable))
    env = {**os.environ, "PATH": str(bin_dir), "HOME": str(tmp_path)}
    run = subprocess.run([bin_dir / "python3", _SCRIPT], capture_output=True, text=True, env=env)
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == "guest_image: cannot build the test guest: 'apt-cache' is not installed\n"
    # As the README's line: bash stops there, with nothing set.
    readme = subprocess.run(["bash", "-c", _README, _SCRIPT], capture_output=True, text=True, env=env)
    assert (readme.returncode, readme.stdout, readme.stderr) == (1, "", run.stderr)
