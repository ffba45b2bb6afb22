"""The flavor catalog (docs/nova-compute.md#flavors): the sizes `boot --flavor` means.

They are a contract, not a detail: a record keeps only the flavor's name, `sync` adopts a guest
with the flavor of its size, and capacity refusals quote them, so a size changed between two
versions would silently re-size what an older version booted.
"""

import pytest

from nova_common.compute.errors import UnknownFlavor
from nova_common.compute.flavors import FLAVORS, get_flavor

#: docs/nova-compute.md's table: name -> (vCPUs, RAM in MB, root disk in GB, ephemeral disk in GB).
#: Distinct (vCPUs, RAM) pairs: sync adopts a guest by them.
DOCUMENTED = {
    "m1.nano": (1, 128, 1, 0),
    "m1.tiny": (1, 512, 1, 0),
    "m1.small": (1, 2048, 20, 0),
    "m1.medium": (2, 4096, 40, 0),
}


def test_the_catalog_is_the_documented_one() -> None:
    sizes = {name: (f.vcpus, f.memory_mb, f.root_gb, f.ephemeral_gb) for name, f in FLAVORS.items()}
    assert sizes == DOCUMENTED
    assert all(f.name == name for name, f in FLAVORS.items())


def test_a_flavor_is_a_copy_the_catalog_does_not_share() -> None:
    flavor = get_flavor("m1.small")
    flavor.root_gb = 99
    assert get_flavor("m1.small").root_gb == 20 and FLAVORS["m1.small"].root_gb == 20


def test_an_unknown_flavor_names_the_known_ones() -> None:
    with pytest.raises(UnknownFlavor) as e:
        get_flavor("m1.huge")
    assert str(e.value) == "no flavor 'm1.huge'; known flavors: m1.nano, m1.tiny, m1.small, m1.medium"
