"""The one definition of the public driver API."""

import pytest

from nova_split_tools.api_surface import is_api_file, is_public_module


@pytest.mark.parametrize(
    "module, public",
    [
        ("nova_common", True),
        ("nova_common.driver", True),
        ("nova_common.power", True),
        ("nova_common.objects.flavor", True),
        ("nova_common.testing.conformance", True),
        ("nova_common.compute", False),
        ("nova_common.compute.manager", False),
        ("nova_common._impl", False),
        ("nova_common.objects.base_test", False),
        ("nova_libvirt.driver", False),
    ],
)
def test_public_modules(module: str, public: bool) -> None:
    assert is_public_module(module) is public


def test_api_files_are_the_public_modules_sources() -> None:
    assert is_api_file("nova-common/nova_common/power.py")
    assert is_api_file("nova-common/nova_common/objects/__init__.py")
    assert not is_api_file("nova-common/nova_common/compute/cli.py")
    assert not is_api_file("nova-common/nova_common/driver_test.py")
    assert not is_api_file("nova-common/subproject.toml")
    assert not is_api_file("drivers/xen/nova_xen/driver.py")
