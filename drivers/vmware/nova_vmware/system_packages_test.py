"""bindep.txt brings what vcsim, vmware's test peer, is built with, as dpkg and apt say.

Each line of bindep.txt is here through something the build of vcsim/main.go uses; a line
dropped fails this test on any machine, not only on a fresh CI runner.
"""

from pathlib import Path

from nova_common.testing.system_packages import unprovided

BINDEP = Path(__file__).parents[1] / "bindep.txt"

NEEDS = [
    # the Go toolchain (golang-go depends on the versioned package that owns it)
    "command:go",
    # govmomi's simulator, which vcsim/main.go imports, from Debian's Go source tree
    "/usr/share/gocode/src/github.com/vmware/govmomi/simulator",
]


def test_bindep_brings_what_the_vcsim_build_uses() -> None:
    assert unprovided(BINDEP, NEEDS) == {}
