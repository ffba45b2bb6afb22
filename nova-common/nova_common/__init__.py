"""nova-common: the stable driver API shared by nova's compute service and its hypervisor drivers.

Drivers may import this package and its public modules: :mod:`nova_common.driver`,
:mod:`nova_common.objects`, :mod:`nova_common.exception`, :mod:`nova_common.api_version`,
:mod:`nova_common.virtapi`, :mod:`nova_common.loader`, :mod:`nova_common.power`,
:mod:`nova_common.deprecation` and :mod:`nova_common.testing`.
:mod:`nova_common.compute` is the core's own: the build graph refuses a driver that imports
it (visibility rules in build-support/macros/subprojects.py).
"""

from nova_common.api_version import DRIVER_API_VERSION, APIVersion, APIVersionRange
from nova_common.driver import ComputeDriver
from nova_common.virtapi import VirtAPI

__all__ = ["DRIVER_API_VERSION", "APIVersion", "APIVersionRange", "ComputeDriver", "VirtAPI"]
