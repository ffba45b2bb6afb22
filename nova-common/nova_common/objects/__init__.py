"""The versioned objects that cross the driver API (see :mod:`nova_common.objects.base`)."""

from nova_common.objects.base import ObjectValidationError, VersionedObject, obj_field, object_registry
from nova_common.objects.block_device import BlockDevice, BlockDeviceInfo
from nova_common.objects.capabilities import OPTIONAL_OPERATIONS, Capabilities
from nova_common.objects.events import LifecycleEvent
from nova_common.objects.fields import PowerState, RebootType, VMState
from nova_common.objects.flavor import Flavor
from nova_common.objects.host import HostResources
from nova_common.objects.image_meta import ImageMeta
from nova_common.objects.instance import Instance
from nova_common.objects.instance_info import InstanceInfo
from nova_common.objects.network import VIF, NetworkInfo

__all__ = [
    "OPTIONAL_OPERATIONS",
    "VIF",
    "BlockDevice",
    "BlockDeviceInfo",
    "Capabilities",
    "Flavor",
    "HostResources",
    "ImageMeta",
    "Instance",
    "InstanceInfo",
    "LifecycleEvent",
    "NetworkInfo",
    "ObjectValidationError",
    "PowerState",
    "RebootType",
    "VMState",
    "VersionedObject",
    "obj_field",
    "object_registry",
]
