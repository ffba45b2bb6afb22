import pytest

from nova_common import deprecation
from nova_common.api_version import APIVersion
from nova_common.deprecation import DeprecatedAPIRemoved, deprecated, deprecated_alias


def power_off_now(name: str) -> str:
    return f"off {name}"


def test_deprecated_warns_naming_the_replacement_and_the_removal_version() -> None:
    @deprecated(removal="2.0", replacement="power_off_now")
    def shutdown(name: str) -> str:
        return power_off_now(name)

    with pytest.warns(DeprecationWarning, match=r"shutdown is deprecated .* nova-common 2\.0; use power_off_now"):
        assert shutdown("web1") == "off web1"


def test_alias_becomes_an_error_at_its_removal_version(monkeypatch: pytest.MonkeyPatch) -> None:
    old = deprecated_alias(power_off_now, name="nova_common.x.power_off_later", removal="2.0")
    with pytest.warns(DeprecationWarning, match="nova_common.x.power_off_later"):
        assert old("a") == "off a"
    monkeypatch.setattr(deprecation, "DRIVER_API_VERSION", APIVersion(2, 0))
    with pytest.raises(DeprecatedAPIRemoved, match=r"removed in nova-common 2\.0; use .*power_off_now instead"):
        old("a")
    assert any(d.name == "nova_common.x.power_off_later" and d.removed for d in deprecation.deprecations())


def test_removal_must_be_a_major_version() -> None:
    with pytest.raises(ValueError, match="removal versions are majors"):
        deprecated(removal="1.5", replacement="x")(power_off_now)
