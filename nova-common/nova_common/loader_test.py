"""The loader's every outcome, through real distribution metadata.

Each test writes real ``*.dist-info`` directories (and, where the driver is not nova-common's own,
the driver's module) into a fresh site directory on ``sys.path``; ``importlib.metadata`` finds
them unmodified, as it finds an installed wheel.
"""

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import nova_common.fake_driver  # noqa: F401  (named by the entry points below; a dependency)
from nova_common.exception import DriverLoadError, DriverNotFound, IncompatibleDriverAPI, InvalidDriverConfig
from nova_common.fake_driver import FakeDriver
from nova_common.loader import ENTRY_POINT_GROUP, installed_drivers, load_driver
from nova_common.testing.distributions import install_distribution
from nova_common.virtapi import LocalVirtAPI

FAKE = "nova_common.fake_driver:FakeDriver"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    before = set(sys.modules)
    yield site
    for module in set(sys.modules) - before:  # the driver modules the test wrote
        if module.startswith("drv_"):
            del sys.modules[module]


@pytest.fixture
def virtapi(tmp_path: Path) -> LocalVirtAPI:
    return LocalVirtAPI(tmp_path / "state")


def _driver_module(site: Path, body: str) -> str:
    """Write a module holding ``body`` (after the usual imports) into ``site``; its name."""
    module = "drv_" + uuid.uuid4().hex[:12]
    (site / f"{module}.py").write_text(
        "from nova_common.api_version import APIVersionRange\n"
        "from nova_common.driver import ComputeDriver\n"
        "from nova_common.fake_driver import FakeDriver\n" + body
    )
    return module


def _install(site: Path, dist: str, drivers: dict[str, str], version: str = "1.0.0") -> None:
    install_distribution(site, dist, version, {ENTRY_POINT_GROUP: drivers})


def _load_error(name: str, virtapi: LocalVirtAPI) -> str:
    with pytest.raises(DriverLoadError) as raised:
        load_driver(name, virtapi)
    assert type(raised.value) is DriverLoadError
    return str(raised.value)


def test_installed_driver_loads_and_negotiates(site: Path, virtapi: LocalVirtAPI) -> None:
    _install(site, "nova-common", {"fake": FAKE})
    loaded = load_driver("fake", virtapi, {"vcpus": "4"})
    assert isinstance(loaded.driver, FakeDriver) and str(loaded.api_version) == "1.0"
    loaded.driver.init_host("h")
    assert loaded.driver.get_available_resource("h").vcpus == 4
    assert installed_drivers() == {"fake": "nova-common 1.0.0"}


def test_unknown_driver_lists_the_installed_ones(site: Path, virtapi: LocalVirtAPI) -> None:
    _install(site, "nova-common", {"fake": FAKE})
    module = _driver_module(site, "class Other(FakeDriver):\n    name = 'other'\n")
    _install(site, "nova-other", {"other": f"{module}:Other"}, version="2.3.0")
    assert installed_drivers() == {"fake": "nova-common 1.0.0", "other": "nova-other 2.3.0"}
    with pytest.raises(DriverNotFound) as raised:
        load_driver("libvirt", virtapi)
    assert str(raised.value) == "no compute driver named 'libvirt' is installed; installed drivers: fake, other"


def test_unknown_driver_with_none_installed_says_none(site: Path, virtapi: LocalVirtAPI) -> None:
    # The sandbox runs nova-common from sources: no dist-info registers a driver but ours.
    assert installed_drivers() == {}
    with pytest.raises(DriverNotFound, match="installed drivers: none$"):
        load_driver("fake", virtapi)


def test_entry_point_to_a_missing_module(site: Path, virtapi: LocalVirtAPI) -> None:
    _install(site, "nova-gone", {"gone": "drv_not_there:GoneDriver"})
    message = _load_error("gone", virtapi)
    assert message.startswith("could not load driver 'gone': importing drv_not_there:GoneDriver failed: No module")


def test_entry_point_to_a_missing_class(site: Path, virtapi: LocalVirtAPI) -> None:
    module = _driver_module(site, "")
    _install(site, "nova-gone", {"gone": f"{module}:GoneDriver"})
    message = _load_error("gone", virtapi)
    assert message.startswith(f"could not load driver 'gone': importing {module}:GoneDriver failed: ")
    assert "GoneDriver" in message.split("failed: ", 1)[1]


def test_driver_whose_module_fails_to_import(site: Path, virtapi: LocalVirtAPI) -> None:
    module = _driver_module(site, "import no_such_client_library\n")
    _install(site, "nova-broken", {"broken": f"{module}:BrokenDriver"})
    message = _load_error("broken", virtapi)
    assert message.endswith("failed: No module named 'no_such_client_library'")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("def Target(virtapi, options):\n    pass\n", "is not a ComputeDriver subclass"),
        ("class Target:\n    name = 'odd'\n", "is not a ComputeDriver subclass"),
        ("Target = 42\n", "is not a ComputeDriver subclass"),
        (
            "class Target(ComputeDriver):\n    name = 'odd'\n    api_versions = APIVersionRange('1.0', '1.0')\n",
            "does not implement destroy, get_available_nodes, get_available_resource, get_info, init_host, "
            "list_instances, power_off, power_on, reboot, spawn",
        ),
        ("class Target(FakeDriver):\n    name = 'fake'\n", "calls itself 'fake'"),
        (
            "class Target(FakeDriver):\n    api_versions = None\n    name = 'odd'\n",
            "declares no api_versions (an APIVersionRange)",
        ),
    ],
)
def test_entry_point_to_something_that_is_no_driver(site: Path, virtapi: LocalVirtAPI, body: str, reason: str) -> None:
    module = _driver_module(site, body)
    _install(site, "nova-odd", {"odd": f"{module}:Target"})
    assert _load_error("odd", virtapi) == f"could not load driver 'odd': {module}:Target {reason}"


def test_two_distributions_providing_one_name_are_refused(site: Path, virtapi: LocalVirtAPI) -> None:
    module = _driver_module(site, "class Fake2(FakeDriver):\n    pass\n")
    _install(site, "nova-common", {"fake": FAKE})
    _install(site, "nova-fake-fork", {"fake": f"{module}:Fake2"}, version="9.0.0")
    assert _load_error("fake", virtapi) == (
        "could not load driver 'fake': more than one distribution provides it: "
        f"nova-common 1.0.0 ({FAKE}), nova-fake-fork 9.0.0 ({module}:Fake2); uninstall one"
    )


def test_version_negotiation_failure_names_both_ranges(site: Path, virtapi: LocalVirtAPI) -> None:
    module = _driver_module(
        site, "class Future(FakeDriver):\n    name = 'future'\n    api_versions = APIVersionRange('2.0', '2.1')\n"
    )
    _install(site, "nova-future", {"future": f"{module}:Future"}, version="2.0.0")
    with pytest.raises(IncompatibleDriverAPI) as raised:
        load_driver("future", virtapi)
    assert str(raised.value) == (
        "driver 'future' supports driver API 2.0-2.1, but this nova-common provides 1.0; "
        "install a 'future' release built for driver API 1.x"
    )
    assert isinstance(raised.value, DriverLoadError)


def test_negotiation_picks_the_highest_common_version(site: Path, virtapi: LocalVirtAPI) -> None:
    module = _driver_module(
        site, "class Wide(FakeDriver):\n    name = 'wide'\n    api_versions = APIVersionRange('0.9', '3.0')\n"
    )
    _install(site, "nova-wide", {"wide": f"{module}:Wide"})
    assert str(load_driver("wide", virtapi).api_version) == "1.0"


@pytest.mark.parametrize(
    ("options", "option"),
    [({"vcpus": "many"}, "vcpus"), ({"colour": "red"}, "colour")],
)
def test_bad_options_are_the_drivers_config_error(
    site: Path, virtapi: LocalVirtAPI, options: dict[str, str], option: str
) -> None:
    _install(site, "nova-common", {"fake": FAKE})
    with pytest.raises(InvalidDriverConfig) as raised:
        load_driver("fake", virtapi, options)
    assert (raised.value.kwargs["driver"], raised.value.kwargs["option"]) == ("fake", option)
