"""The xen driver's options, parsed from the strings the compute service passes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from nova_xen.exception import XenConfigError

__all__ = ["XenConfig"]

_KNOWN = ("url", "username", "password", "verify_tls", "api_timeout")
_BOOL = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


@dataclass(frozen=True)
class XenConfig:
    """Options:

    ``url`` (required)
        The XenAPI endpoint of the host (or pool master): ``https://xenserver.example`` or
        ``http://host:port``.
    ``username``
        Default ``root``.
    ``password`` (required)
    ``verify_tls``
        ``true`` (default) or ``false``: whether to check the server's TLS certificate. Fresh
        XenServer / XCP-ng hosts have a self-signed one.
    ``api_timeout``
        Seconds to wait for the connection and for each answer of the XenAPI endpoint (default 60):
        a host that accepts the connection and never answers is an error, not a hang.
    """

    url: str
    password: str
    username: str = "root"
    verify_tls: bool = True
    api_timeout: float = 60.0

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> XenConfig:
        unknown = sorted(set(options) - set(_KNOWN))
        if unknown:
            raise XenConfigError(driver="xen", option=unknown[0], reason="unknown option; known: " + ", ".join(_KNOWN))
        url = options.get("url", "")
        if not url:
            raise XenConfigError(driver="xen", option="url", reason="required: the XenAPI endpoint, e.g. https://host")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise XenConfigError(driver="xen", option="url", reason=f"{url!r} is not an http(s) URL with a host")
        if "password" not in options:
            raise XenConfigError(driver="xen", option="password", reason="required")
        username = options.get("username", cls.username)
        if not username:
            raise XenConfigError(driver="xen", option="username", reason="must not be empty")
        verify = options.get("verify_tls", "true").lower()
        if verify not in _BOOL:
            raise XenConfigError(driver="xen", option="verify_tls", reason="must be true or false")
        raw_timeout = options.get("api_timeout", str(cls.api_timeout))
        try:
            api_timeout = float(raw_timeout)
        except ValueError:
            raise XenConfigError(
                driver="xen", option="api_timeout", reason=f"{raw_timeout!r} is not a number of seconds"
            ) from None
        if not api_timeout > 0:
            raise XenConfigError(driver="xen", option="api_timeout", reason="must be a positive number of seconds")
        return cls(
            url=url,
            password=options["password"],
            username=username,
            verify_tls=_BOOL[verify],
            api_timeout=api_timeout,
        )
