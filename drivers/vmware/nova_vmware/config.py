"""The VMware driver's options, parsed from the strings the compute service passes."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from nova_vmware.exception import VMwareConfigError

__all__ = ["VMwareConfig"]

_OPTIONS = (
    "url",
    "username",
    "password",
    "insecure",
    "datacenter",
    "cluster",
    "datastore",
    "network",
    "api_timeout",
)
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _error(option: str, reason: str) -> VMwareConfigError:
    return VMwareConfigError(driver="vmware", option=option, reason=reason)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class VMwareConfig:
    """Options (``url`` is required, the rest optional):

    ``url``
        The vSphere SDK endpoint: ``https://vcenter.example.org/sdk``, or for a local vcsim
        ``http://127.0.0.1:8989/sdk`` (plain http is accepted only on loopback). May carry the
        login as ``http://user:password@host:port/sdk``.
    ``username``, ``password``
        The login, if not in ``url`` (these win over the URL's).
    ``insecure``
        ``true`` to skip TLS certificate verification (self-signed vCenter). Default ``false``.
    ``datacenter``
        Datacenter to work in. Default: the first one.
    ``cluster``
        Cluster (or standalone host's compute resource) whose root resource pool gets the VMs; it
        is this driver's one node. Default: the first cluster, else the first compute resource.
    ``datastore``
        Datastore of that cluster for the VMs' files. Default: the one with most free space.
    ``network``
        Network (port group) the VMs' interfaces connect to. Default ``VM Network``.
    ``api_timeout``
        Seconds to wait for the connection and for each answer of the SDK endpoint (default 60):
        an endpoint that accepts the connection and never answers is an error, not a hang.
    """

    url: str
    username: str
    password: str
    insecure: bool = False
    datacenter: str | None = None
    cluster: str | None = None
    datastore: str | None = None
    network: str = "VM Network"
    api_timeout: float = 60.0

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/sdk"

    @property
    def endpoint(self) -> str:
        """The URL without the login, for messages (an IPv6 host in brackets, as in a URL)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> VMwareConfig:
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise _error(unknown[0], "unknown option; known: " + ", ".join(_OPTIONS))
        url = options.get("url", "")
        if not url:
            raise _error("url", "required: the vSphere SDK URL, e.g. https://vcenter.example.org/sdk")
        parts = urlsplit(url)
        try:
            _ = parts.port  # raises ValueError for a malformed port
        except ValueError:
            raise _error("url", f"{url!r} has an invalid port") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _error("url", f"{url!r} is not an http(s) URL, e.g. https://vcenter.example.org/sdk")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise _error("url", "plain http is only allowed to a loopback address (vcsim); use https")
        username = options.get("username", unquote(parts.username or ""))
        password = options.get("password", unquote(parts.password or ""))
        if not username:
            raise _error("username", "required (as an option or in the url as user:password@host)")
        if not password:
            raise _error("password", "required (as an option or in the url as user:password@host)")
        insecure = options.get("insecure", "false").lower()
        if insecure not in _BOOLEANS:
            raise _error("insecure", "must be true or false")
        network = options.get("network", cls.network)
        if not network:
            raise _error("network", "must not be empty")
        raw_timeout = options.get("api_timeout", str(cls.api_timeout))
        try:
            api_timeout = float(raw_timeout)
        except ValueError:
            raise _error("api_timeout", f"{raw_timeout!r} is not a number of seconds") from None
        if not api_timeout > 0:
            raise _error("api_timeout", "must be a positive number of seconds")
        clean = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        return cls(
            url=clean,
            username=username,
            password=password,
            insecure=_BOOLEANS[insecure],
            datacenter=options.get("datacenter") or None,
            cluster=options.get("cluster") or None,
            datastore=options.get("datastore") or None,
            network=network,
            api_timeout=api_timeout,
        )
