"""The driver API version, and the negotiation between a driver and this core.

The driver API is versioned ``major.minor``. A minor bump adds to the API (new optional methods,
new object fields with defaults) and never breaks a driver written for an older minor; a major
bump may. nova-common's own package major version equals the driver API major version, so a
driver wheel's ``nova-common>=M.0,<M+1`` requirement and the runtime negotiation agree.

A driver declares the range of API versions it can work with (``APIVersionRange("1.0", "1.2")``).
This core provides every version from ``M.0`` up to :data:`DRIVER_API_VERSION`. Negotiation
picks the highest version in both; when there is none it raises
:class:`~nova_common.exception.IncompatibleDriverAPI` naming both ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import total_ordering

__all__ = ["DRIVER_API_VERSION", "APIVersion", "APIVersionRange", "core_range", "negotiate"]


@total_ordering
@dataclass(frozen=True)
class APIVersion:
    """A ``major.minor`` driver API version."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> APIVersion:
        """Parse ``"1.2"``; raises ``ValueError`` naming the bad text."""
        major, sep, minor = text.strip().partition(".")
        if not (sep and major.isdigit() and minor.isdigit()):
            raise ValueError(f"driver API versions look like '1.2', not {text!r}")
        return cls(int(major), int(minor))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, APIVersion):
            return NotImplemented
        return (self.major, self.minor) < (other.major, other.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True)
class APIVersionRange:
    """An inclusive range of driver API versions, e.g. ``APIVersionRange("1.0", "1.3")``."""

    minimum: APIVersion
    maximum: APIVersion

    def __init__(self, minimum: str | APIVersion, maximum: str | APIVersion | None = None) -> None:
        lo = minimum if isinstance(minimum, APIVersion) else APIVersion.parse(minimum)
        hi_in = minimum if maximum is None else maximum
        hi = hi_in if isinstance(hi_in, APIVersion) else APIVersion.parse(hi_in)
        if hi < lo:
            raise ValueError(f"driver API range {lo}-{hi} is empty")
        object.__setattr__(self, "minimum", lo)
        object.__setattr__(self, "maximum", hi)

    def __contains__(self, version: object) -> bool:
        return isinstance(version, APIVersion) and self.minimum <= version <= self.maximum

    def __str__(self) -> str:
        return str(self.minimum) if self.minimum == self.maximum else f"{self.minimum}-{self.maximum}"


#: The driver API this nova-common implements. Bump the minor for additions, the major for breaks.
DRIVER_API_VERSION = APIVersion(1, 0)


def core_range(core: APIVersion = DRIVER_API_VERSION) -> APIVersionRange:
    """Every version a core at ``core`` can serve: ``core.major.0`` to ``core``."""
    return APIVersionRange(APIVersion(core.major, 0), core)


def negotiate(driver_name: str, supported: APIVersionRange, core: APIVersion = DRIVER_API_VERSION) -> APIVersion:
    """Return the highest API version both sides support, or raise ``IncompatibleDriverAPI``."""
    from nova_common.exception import IncompatibleDriverAPI

    ours = core_range(core)
    best = min(supported.maximum, ours.maximum)
    if best in supported and best in ours:
        return best
    raise IncompatibleDriverAPI(
        driver=driver_name, driver_range=str(supported), core_range=str(ours), core_major=core.major
    )
