import pytest

from nova_common.objects import (
    VIF,
    Flavor,
    Instance,
    NetworkInfo,
    ObjectValidationError,
    PowerState,
    VersionedObject,
    obj_field,
    object_registry,
)
from nova_common.testing.factories import make_instance


class _Widget(VersionedObject):
    VERSION = "1.1"
    CHANGES = {"1.0": "Initial version.", "1.1": "Added colour."}

    name: str
    colour: str | None = obj_field(default=None, added_in="1.1")


def test_fields_are_type_checked_on_construction_and_assignment() -> None:
    with pytest.raises(ObjectValidationError, match=r"Flavor.vcpus must be int, got str"):
        Flavor(name="x", vcpus="2", memory_mb=1, root_gb=1)  # type: ignore[arg-type]
    flavor = Flavor(name="x", vcpus=2, memory_mb=1, root_gb=1)
    with pytest.raises(ObjectValidationError, match="memory_mb must be int"):
        flavor.memory_mb = True  # type: ignore[assignment]
    with pytest.raises(ObjectValidationError, match="has no field 'colour'"):
        flavor.colour = "red"
    with pytest.raises(ObjectValidationError, match="list"):
        NetworkInfo(vifs=[{"id": "not an object"}])  # type: ignore[list-item]


def test_round_trip_through_primitive_keeps_nested_objects_and_enums() -> None:
    inst = make_instance(power_state=PowerState.PAUSED, metadata={"k": "v"})
    prim = inst.obj_to_primitive()
    assert prim["nova_object.name"] == "Instance"
    assert prim["nova_object.data"]["power_state"] == "paused"
    assert prim["nova_object.data"]["flavor"]["nova_object.name"] == "Flavor"
    again = Instance.obj_from_primitive(prim)
    assert again == inst
    assert again.power_state is PowerState.PAUSED
    net = NetworkInfo(vifs=[VIF(id="1", address="fa:16:3e:00:00:01", network_name="n")])
    assert NetworkInfo.obj_from_primitive(net.obj_to_primitive()) == net


def test_older_version_form_drops_fields_added_later() -> None:
    w = _Widget(name="w", colour="red")
    assert w.obj_to_primitive()["nova_object.data"] == {"name": "w", "colour": "red"}
    old = w.obj_to_primitive(target_version="1.0")
    assert old["nova_object.version"] == "1.0"
    assert old["nova_object.data"] == {"name": "w"}
    assert _Widget.obj_from_primitive(old) == _Widget(name="w")


def test_bad_versions_and_foreign_primitives_are_rejected() -> None:
    w = _Widget(name="w")
    with pytest.raises(ObjectValidationError, match="has no version 2.0; known: 1.0, 1.1"):
        w.obj_to_primitive(target_version="2.0")
    prim = w.obj_to_primitive()
    with pytest.raises(ObjectValidationError, match="expected a Flavor primitive"):
        Flavor.obj_from_primitive(prim)
    prim["nova_object.data"]["shape"] = "round"
    with pytest.raises(ObjectValidationError, match="no field"):
        _Widget.obj_from_primitive(prim)


def test_a_version_without_changelog_entry_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="CHANGES has no entry for its VERSION 1.1"):

        class _Undocumented(VersionedObject):
            VERSION = "1.1"
            CHANGES = {"1.0": "Initial version."}

            name: str


def test_registry_lists_every_object_by_name() -> None:
    registry = object_registry()
    assert registry["Instance"] is Instance
    with pytest.raises(TypeError):
        registry["X"] = Instance  # type: ignore[index]
