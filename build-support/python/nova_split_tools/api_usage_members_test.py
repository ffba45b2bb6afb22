"""Member-level use: what a driver file touches, including attributes reached by name."""

from nova_split_tools.api_usage_members import scan_file_uses

LITERAL = """from nova_common.objects import Flavor


def disk(flavor: Flavor) -> int:
    return getattr(flavor, "root_gb") + flavor.vcpus
"""

COMPUTED = """from nova_common.objects import Flavor


def describe(flavor: Flavor) -> dict[str, str]:
    return {key: str(getattr(flavor, key)) for key in ("memory_mb", "ephemeral_gb")}
"""

PLAIN = """from nova_common.objects import Flavor


def label(flavor: Flavor) -> str:
    return "ephemeral_gb: " + flavor.name
"""


def test_getattr_with_a_literal_touches_that_member() -> None:
    uses = scan_file_uses({"d/a.py": LITERAL})["d/a.py"]
    assert {"root_gb", "vcpus"} <= uses.members


def test_computed_getattr_touches_every_identifier_the_file_spells() -> None:
    uses = scan_file_uses({"d/b.py": COMPUTED})["d/b.py"]
    assert {"memory_mb", "ephemeral_gb"} <= uses.members


def test_strings_alone_touch_nothing() -> None:
    uses = scan_file_uses({"d/c.py": PLAIN})["d/c.py"]
    assert "ephemeral_gb" not in uses.members and "name" in uses.members
