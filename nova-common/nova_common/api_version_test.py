import pytest

from nova_common.api_version import APIVersion, APIVersionRange, core_range, negotiate
from nova_common.exception import IncompatibleDriverAPI


def test_parse_and_order() -> None:
    assert APIVersion.parse("1.10") > APIVersion.parse("1.9")
    assert str(APIVersionRange("1.0", "1.3")) == "1.0-1.3"
    assert str(APIVersionRange("2.1")) == "2.1"
    for bad in ("1", "1.x", "v1.0", ""):
        with pytest.raises(ValueError, match="look like '1.2'"):
            APIVersion.parse(bad)
    with pytest.raises(ValueError, match="empty"):
        APIVersionRange("1.3", "1.1")


def test_negotiation_picks_the_highest_common_version() -> None:
    core = APIVersion(1, 4)
    assert str(core_range(core)) == "1.0-1.4"
    assert negotiate("d", APIVersionRange("1.0", "1.2"), core) == APIVersion(1, 2)
    assert negotiate("d", APIVersionRange("1.2", "1.9"), core) == APIVersion(1, 4)


@pytest.mark.parametrize("driver_range", ["2.0-2.3", "0.1-0.9", "1.5-1.9"])
def test_incompatible_driver_names_both_ranges(driver_range: str) -> None:
    lo, _, hi = driver_range.partition("-")
    with pytest.raises(IncompatibleDriverAPI) as err:
        negotiate("xen", APIVersionRange(lo, hi), APIVersion(1, 4))
    assert str(err.value) == (
        f"driver 'xen' supports driver API {driver_range}, but this nova-common provides 1.0-1.4; "
        "install a 'xen' release built for driver API 1.x"
    )
