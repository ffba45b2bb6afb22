"""Instance identity: a reference is a UUID or a name, never ambiguously both.

UUID-shaped references match uuids only, and names may not look like a UUID, so an instance
cannot be named after another one's uuid and steal its ``delete``.
"""

from __future__ import annotations

import re

from nova_common.compute.errors import InvalidName

__all__ = ["MAX_NAME_LENGTH", "is_uuid", "safe", "validate_image_id", "validate_name"]

#: Nova's limit for server names.
MAX_NAME_LENGTH = 255


#: The form uuids are shown in: 8-4-4-4-12 hex digits, any case.
_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def is_uuid(ref: str) -> bool:
    """True for the 36-character hex-and-dashes form (any case), the form uuids are shown in.

    Only that form: ``uuid.UUID`` also reads braces, a ``urn:uuid:`` prefix and dashes anywhere
    (``--`` + 32 hex digits + ``--``), which no uuid is shown as and which may be a name.
    """
    return _UUID.fullmatch(ref) is not None


def safe(text: str) -> str:
    """``text`` for a terminal: non-printable characters escaped, so output stays one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def validate_name(name: str) -> str:
    """Return ``name`` if it is a usable instance name, else raise ``InvalidName`` saying why."""
    return _validate(name, "instance name", uuid_ok=False)


def validate_image_id(image_id: str) -> str:
    """The same rules for the id of a new image (``snapshot``), which may be a UUID."""
    return _validate(image_id, "image id", uuid_ok=True)


def _validate(name: str, what: str, uuid_ok: bool) -> str:
    shown = repr(name) if len(name) <= 80 else repr(name[:80]) + "..."
    if not name.strip():
        reason = "it is empty or blank"
    elif len(name) > MAX_NAME_LENGTH:
        reason = f"it is {len(name)} characters long, the limit is {MAX_NAME_LENGTH}"
    elif not name.isprintable():
        reason = "it contains control or other non-printable characters"
    elif name != name.strip():
        reason = "it starts or ends with whitespace"
    elif is_uuid(name) and not uuid_ok:
        reason = "it looks like a UUID, which would be ambiguous with instance uuids"
    else:
        return name
    raise InvalidName(what=what, name=shown, reason=reason)
