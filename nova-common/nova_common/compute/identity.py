"""Which hypervisor a state directory belongs to: its identity string, without credentials.

A state directory remembers the driver and the connection options it was first used with (the
``hypervisor`` file and the database's ``meta`` table, :mod:`nova_common.compute.store`), and
refuses any other, so two hypervisors' records never mix. Credentials are not part of that
identity: a new password is the same hypervisor, and a password must not be written to disk or
echoed in an error. Options are credentials by name (:data:`CREDENTIAL_OPTION`).

Versions before credentials were left out wrote every option (:func:`legacy_identity`); a
directory holding such a string is adopted by the same options and rewritten without them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["CREDENTIAL_OPTION", "identity", "legacy_identity", "redacted"]

#: Driver options that are credentials, by name (password, passwd, secret, token, api_key, ...).
CREDENTIAL_OPTION = re.compile(r"pass|secret|token|credential|api[-_]?key", re.IGNORECASE)

#: ``key=value`` in an identity string whose key names a credential; the value runs to the next
#: `` key=`` or the end (values are written unquoted, so they may hold spaces).
_CREDENTIAL_VALUE = re.compile(
    r"(?P<key>(?<![^ ])[^ =]*(?:pass|secret|token|credential|api[-_]?key)[^ =]*=).*?(?=(?: [^ =]+=)|$)",
    re.IGNORECASE,
)


def _describe(driver: str, options: Mapping[str, str]) -> str:
    described = f"driver {driver!r}"
    if options:
        described += " with " + " ".join(f"{k}={v}" for k, v in sorted(options.items()))
    return described


def identity(driver: str, options: Mapping[str, str]) -> str:
    """The driver and the options naming its connection, credentials left out."""
    return _describe(driver, {k: v for k, v in options.items() if not CREDENTIAL_OPTION.search(k)})


def legacy_identity(driver: str, options: Mapping[str, str]) -> str | None:
    """What an earlier nova-compute wrote for the same driver and options (every option, credentials
    too), or None when no option is a credential (then it wrote :func:`identity`)."""
    if not any(CREDENTIAL_OPTION.search(k) for k in options):
        return None
    return _describe(driver, options)


def redacted(recorded: str) -> str:
    """An identity string safe to print: a credential's value (from a directory an earlier version
    wrote) becomes ``***``."""
    return _CREDENTIAL_VALUE.sub(lambda m: m.group("key") + "***", recorded)
