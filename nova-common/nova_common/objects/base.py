"""The versioned-object base: typed attributes, a version, a changelog and older forms.

Everything that crosses the driver API is a :class:`VersionedObject`: a dataclass whose fields are
checked on construction and assignment, with

* ``VERSION``: ``"major.minor"``; bumped whenever the fields change (the fingerprint test in
  ``fingerprint_test.py`` fails until it is);
* ``CHANGES``: one line per version saying what it added (``{"1.1": "Added hostname."}``);
* :meth:`VersionedObject.obj_to_primitive`: the wire form, optionally as an *older* version so a
  newer core can talk to a driver built against an older one. Fields declared with
  ``obj_field(added_in="1.1")`` are dropped from forms older than 1.1 automatically; other
  changes override :meth:`VersionedObject.obj_make_compatible`.

Only backward-compatible changes are allowed within a major version: add fields with defaults,
never remove or retype one (the API gate enforces this against the last release).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar, cast, dataclass_transform

from packaging.version import Version

__all__ = [
    "ObjectValidationError",
    "VersionedObject",
    "obj_field",
    "object_registry",
]

_T = TypeVar("_T", bound="VersionedObject")
_REGISTRY: dict[str, type[VersionedObject]] = {}
_ADDED_IN = "nova_object.added_in"


class ObjectValidationError(TypeError):
    """A field was given a value of the wrong type, or an unknown field or version was named."""


def obj_field(
    *, default: Any = dataclasses.MISSING, default_factory: Any = dataclasses.MISSING, added_in: str | None = None
) -> Any:
    """Declare a field with a default and, optionally, the object version that added it."""
    metadata = {_ADDED_IN: added_in} if added_in else {}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def object_registry() -> Mapping[str, type[VersionedObject]]:
    """Every versioned object class by its name (read-only view)."""
    return types.MappingProxyType(_REGISTRY)


@dataclass_transform(field_specifiers=(obj_field, dataclasses.field))
class VersionedObject:
    """Base of every object that crosses the driver API."""

    VERSION: ClassVar[str] = "1.0"
    CHANGES: ClassVar[dict[str, str]] = {}
    _hints: ClassVar[dict[str, Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(eq=True, repr=True)(cls)
        if cls.VERSION not in cls.CHANGES:
            raise TypeError(f"{cls.__name__}.CHANGES has no entry for its VERSION {cls.VERSION}")
        if cls.__name__ in _REGISTRY:
            raise TypeError(f"two versioned objects are named {cls.__name__}")
        _REGISTRY[cls.__name__] = cls

    def __setattr__(self, name: str, value: Any) -> None:
        hints = _type_hints(type(self))
        if name not in hints:
            raise ObjectValidationError(f"{type(self).__name__} has no field {name!r}")
        _check(type(self), name, value)
        super().__setattr__(name, value)

    # -- wire form -----------------------------------------------------------------------------

    def obj_to_primitive(self, target_version: str | None = None) -> dict[str, Any]:
        """Return this object as JSON-compatible data, as ``target_version`` if given.

        Raises :class:`ObjectValidationError` for a version newer than ``VERSION`` or unknown.
        """
        version = target_version or self.VERSION
        if version not in self.CHANGES:
            raise ObjectValidationError(
                f"{type(self).__name__} has no version {version}; known: {', '.join(self.CHANGES)}"
            )
        data = {f.name: _to_primitive(getattr(self, f.name)) for f in dataclasses.fields(cast(Any, self))}
        self.obj_make_compatible(data, version)
        return {
            "nova_object.name": type(self).__name__,
            "nova_object.version": version,
            "nova_object.data": data,
        }

    def obj_make_compatible(self, primitive: dict[str, Any], target_version: str) -> None:
        """Rewrite ``primitive`` (this object's data) in place into ``target_version``'s form.

        The default drops every field added after ``target_version``. Override (and call super)
        for any other change, e.g. a field whose meaning was widened.
        """
        target = Version(target_version)
        for f in dataclasses.fields(cast(Any, self)):
            added_in = f.metadata.get(_ADDED_IN)
            if added_in and Version(added_in) > target:
                primitive.pop(f.name, None)

    @classmethod
    def obj_from_primitive(cls: type[_T], primitive: Mapping[str, Any]) -> _T:
        """Rebuild an object from :meth:`obj_to_primitive`'s output (any known version)."""
        name = primitive.get("nova_object.name")
        if name != cls.__name__:
            raise ObjectValidationError(f"expected a {cls.__name__} primitive, got {name!r}")
        version = primitive.get("nova_object.version")
        if version not in cls.CHANGES:
            raise ObjectValidationError(f"{cls.__name__} has no version {version}; known: {', '.join(cls.CHANGES)}")
        hints = _type_hints(cls)
        data = primitive.get("nova_object.data", {})
        unknown = set(data) - set(hints)
        if unknown:
            raise ObjectValidationError(f"{cls.__name__} {version} has no field(s) {', '.join(sorted(unknown))}")
        return cls(**{k: _from_primitive(hints[k], v) for k, v in data.items()})

    @classmethod
    def obj_fingerprint(cls) -> str:
        """``"<VERSION>-<hash of the fields>"``: changes whenever a field is added or changed."""
        hints = _type_hints(cls)
        parts = [cls.__name__]
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            default = f.default if f.default is not dataclasses.MISSING else None
            factory = f.default_factory if f.default_factory is not dataclasses.MISSING else None
            parts.append(
                f"{f.name}:{_type_name(hints[f.name])}:{default!r}:"
                f"{getattr(factory, '__name__', None)}:{f.metadata.get(_ADDED_IN)}"
            )
        return f"{cls.VERSION}-{hashlib.sha256(';'.join(parts).encode()).hexdigest()[:16]}"


# -- helpers -----------------------------------------------------------------------------------

_HINT_CACHE: dict[type, dict[str, Any]] = {}


def _type_hints(cls: type) -> dict[str, Any]:
    hints = _HINT_CACHE.get(cls)
    if hints is None:
        all_hints = typing.get_type_hints(cls)
        hints = {f.name: all_hints[f.name] for f in dataclasses.fields(cls)}
        _HINT_CACHE[cls] = hints
    return hints


def _type_name(hint: Any) -> str:
    if isinstance(hint, type):
        if issubclass(hint, enum.Enum):
            return f"{hint.__name__}({','.join(str(m.value) for m in hint)})"
        return hint.__name__
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    name = getattr(origin, "__name__", str(origin))
    return f"{name}[{','.join(_type_name(a) for a in args)}]"


def _matches(hint: Any, value: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(_matches(a, value) for a in typing.get_args(hint))
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_matches(item, v) for v in value)
    if origin is dict:
        key, item = typing.get_args(hint)
        return isinstance(value, dict) and all(_matches(key, k) and _matches(item, v) for k, v in value.items())
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _check(cls: type, name: str, value: Any) -> None:
    hint = _type_hints(cls)[name]
    if not _matches(hint, value):
        raise ObjectValidationError(
            f"{cls.__name__}.{name} must be {_type_name(hint)}, got {type(value).__name__} {value!r}"
        )


def _to_primitive(value: Any) -> Any:
    if isinstance(value, VersionedObject):
        return value.obj_to_primitive()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_to_primitive(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_primitive(v) for k, v in value.items()}
    return value


def _from_primitive(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _from_primitive(inner[0], value) if len(inner) == 1 else value
    if origin is list:
        (item,) = typing.get_args(hint)
        return [_from_primitive(item, v) for v in value]
    if origin is dict:
        _, item = typing.get_args(hint)
        return {k: _from_primitive(item, v) for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, VersionedObject):
        return hint.obj_from_primitive(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    return value
