"""The Ironic driver's options, parsed from the strings the compute service passes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from nova_ironic.exception import IronicConfigError

__all__ = ["IronicConfig"]

_KNOWN = ("url", "resource_class", "image_base_url", "timeout", "api_timeout")


def _error(option: str, reason: str) -> IronicConfigError:
    return IronicConfigError(driver="ironic", option=option, reason=reason)


def _seconds(options: Mapping[str, str], option: str, default: float) -> float:
    raw = options.get(option)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise _error(option, f"{raw!r} is not a number of seconds") from None
    if not value > 0:
        raise _error(option, "must be a positive number of seconds")
    return value


@dataclass(frozen=True)
class IronicConfig:
    """Options:

    ``url`` (required)
        The Ironic API endpoint, e.g. ``http://ironic.example:6385``. The API must accept
        unauthenticated requests (Ironic's ``auth_strategy = noauth``, as in standalone Ironic).
    ``resource_class``
        Manage only nodes of this resource class (default: every node). Other nodes are neither
        listed, nor deployed to, nor counted.
    ``image_base_url``
        How to turn an image reference that is neither a Glance image UUID nor a URL (such as
        ``cirros-0.6``) into an image Ironic can deploy: ``<image_base_url>/<image reference>``.
        Without it, such references are passed to Ironic as they are (and Ironic refuses them).
    ``timeout``
        Seconds to wait for a deploy, an undeploy or a power change (default 1800).
    ``api_timeout``
        Seconds to wait for one answer of the Ironic API (default 60).
    """

    url: str
    resource_class: str | None = None
    image_base_url: str | None = None
    timeout: float = 1800.0
    api_timeout: float = 60.0

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> IronicConfig:
        unknown = sorted(set(options) - set(_KNOWN))
        if unknown:
            raise _error(unknown[0], "unknown option; known: " + ", ".join(_KNOWN))
        url = options.get("url")
        if not url:
            raise _error("url", "required: the Ironic API endpoint, e.g. url=http://127.0.0.1:6385")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _error("url", f"{url!r} is not an http(s) URL of the Ironic API")
        resource_class = options.get("resource_class")
        if resource_class is not None and not resource_class.strip():
            raise _error("resource_class", "must not be empty (leave it out to manage every node)")
        image_base_url = options.get("image_base_url")
        if image_base_url is not None and "://" not in image_base_url:
            raise _error("image_base_url", f"{image_base_url!r} is not a URL (e.g. http://images.example/)")
        return cls(
            url=url.rstrip("/"),
            resource_class=resource_class,
            image_base_url=image_base_url.rstrip("/") if image_base_url else None,
            timeout=_seconds(options, "timeout", cls.timeout),
            api_timeout=_seconds(options, "api_timeout", cls.api_timeout),
        )
