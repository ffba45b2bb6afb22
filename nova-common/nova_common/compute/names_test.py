"""References: a UUID-shaped reference matches uuids only, and no name may look like one."""

import uuid

import pytest

from nova_common.compute.errors import InvalidName
from nova_common.compute.names import is_uuid, validate_name


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (str(uuid.UUID(int=7)), True),
        (str(uuid.UUID(int=7)).upper(), True),  # any case: the form uuids are shown in
        ("x" * 36, False),  # 36 characters, not hex
        ("0" * 8 + "-" + "0" * 4 + "-" + "0" * 4 + "-" + "0" * 4 + "-" + "0" * 11 + "g", False),
        (uuid.UUID(int=7).hex, False),  # no dashes: 32 characters, not the form shown
        ("--" + uuid.UUID(int=7).hex + "--", False),  # 36 characters uuid.UUID reads: not the form shown
        ("", False),
    ],
)
def test_only_the_shown_uuid_form_is_a_uuid(ref: str, expected: bool) -> None:
    assert is_uuid(ref) is expected


def test_a_36_character_name_that_is_no_uuid_is_a_name() -> None:
    assert validate_name("a-36-character-long-name-web-server1") == "a-36-character-long-name-web-server1"
    with pytest.raises(InvalidName):
        validate_name(str(uuid.UUID(int=7)))
