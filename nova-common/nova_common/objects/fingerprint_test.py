"""The object fingerprint gate: a field change without a version bump fails here.

If this test fails after you changed an object's fields:
1. bump that object's VERSION (minor for an added field with a default; a removed or retyped
   field is a breaking change of the driver API and needs a major bump of nova-common),
2. add a line for the new version to its CHANGES,
3. declare new fields with ``obj_field(..., added_in="<new version>")`` (or override
   ``obj_make_compatible``) so older forms can still be produced,
4. put the new fingerprint below.
"""

from nova_common.objects import object_registry

EXPECTED_FINGERPRINTS = {
    "BlockDevice": "1.0-e6abb35698964ba9",
    "BlockDeviceInfo": "1.0-bd4155175edb403c",
    "Capabilities": "1.0-d17a2502178314ab",
    "Flavor": "1.0-bfe01a90f53f360e",
    "HostResources": "1.0-c2f345e3be64169b",
    "ImageMeta": "1.0-4c4337ec3f7cd93f",
    "Instance": "1.0-11d1f17ab1016d16",
    "InstanceInfo": "1.0-1728c68d67f94e4b",
    "LifecycleEvent": "1.0-0000d38513be41a1",
    "NetworkInfo": "1.0-95d0530d17cbfebf",
    "VIF": "1.0-998e8a541d7e6d64",
}


def test_object_fingerprints_match_their_versions() -> None:
    actual = {name: cls.obj_fingerprint() for name, cls in object_registry().items() if not name.startswith("_")}
    problems = []
    for name in sorted(set(actual) | set(EXPECTED_FINGERPRINTS)):
        want, got = EXPECTED_FINGERPRINTS.get(name), actual.get(name)
        if want != got:
            problems.append(f"  {name}: recorded {want}, now {got}")
    assert not problems, (
        "versioned objects changed; please make sure the versions have been bumped "
        "(see the steps at the top of nova-common/nova_common/objects/fingerprint_test.py):\n" + "\n".join(problems)
    )
