"""Two wheels of one distribution compared: the Pants wheel and the standalone ``python -m build`` one.

They must ship the same files with the same bytes and the same METADATA, except where the two
build front ends legitimately differ (docs/packaging.md):

- ``RECORD`` and ``WHEEL`` contents (hashes and sizes of the other files; the generator line);
- ``namespace_packages.txt``: Pants' generated ``setup.py`` always passes ``namespace_packages=()``,
  which setuptools records as an empty file; a pyproject build passes nothing;
- ``Dynamic:`` METADATA fields: everything a ``setup.py`` sets is "dynamic" to setuptools, while
  a PEP 621 ``pyproject.toml`` declares it statically.

Multi-valued fields (``Requires-Dist``, ``Classifier``, ``Project-URL``, ``License-File``) are
compared as sorted lists, so a requirement listed twice on one side is a difference.
"""

from __future__ import annotations

import email.parser
import zipfile
from pathlib import Path

__all__ = ["IGNORED_FIELDS", "IGNORED_FILES", "compare_wheels", "metadata_fields"]

IGNORED_FIELDS = frozenset({"Dynamic"})
#: dist-info files whose presence or content legitimately differs (see the module doc)
IGNORED_FILES = frozenset({"RECORD", "WHEEL", "namespace_packages.txt"})


def metadata_fields(wheel: Path) -> tuple[dict[str, list[str]], str]:
    """The wheel's METADATA headers (name -> values in order) and its body (the long description)."""
    with zipfile.ZipFile(wheel) as z:
        [name] = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        message = email.parser.Parser().parsestr(z.read(name).decode())
    fields: dict[str, list[str]] = {}
    for key, value in message.items():
        fields.setdefault(key, []).append(value)
    return fields, str(message.get_payload())


def _contents(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as z:
        return {n: z.read(n) for n in z.namelist() if not n.endswith("/")}


def compare_wheels(pants: Path, standalone: Path) -> list[str]:
    """Every difference between the two wheels that is not a legitimate one; [] if they agree."""
    a, b = _contents(pants), _contents(standalone)
    diffs: list[str] = []

    def relevant(name: str) -> bool:
        return not (".dist-info/" in name and name.rsplit("/", 1)[1] in IGNORED_FILES)

    only_a = sorted(n for n in set(a) - set(b) if relevant(n))
    only_b = sorted(n for n in set(b) - set(a) if relevant(n))
    if only_a:
        diffs.append(f"only in the Pants wheel: {', '.join(only_a)}")
    if only_b:
        diffs.append(f"only in the standalone wheel: {', '.join(only_b)}")
    for name in sorted(set(a) & set(b)):
        if relevant(name) and not name.endswith("/METADATA") and a[name] != b[name]:
            diffs.append(f"{name} differs")
    (fa, body_a), (fb, body_b) = metadata_fields(pants), metadata_fields(standalone)
    for key in sorted((set(fa) | set(fb)) - IGNORED_FIELDS):
        va, vb = sorted(fa.get(key, [])), sorted(fb.get(key, []))
        if va != vb:
            diffs.append(f"METADATA {key}: Pants {va} != standalone {vb}")
    if body_a != body_b:
        diffs.append("METADATA long description (the README) differs")
    return diffs
