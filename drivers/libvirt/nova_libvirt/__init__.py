"""nova-libvirt: the libvirt compute driver (registered as ``libvirt``)."""

import os

# libvirt's embedded QEMU driver logs to stderr what a daemon would log to its own log, harmless
# noise included (no dmidecode, no access manager). Failures reach the caller as exceptions
# (LibvirtError), so by default nothing is logged; set LIBVIRT_LOG_OUTPUTS to see libvirt's log.
# Set here, before any module imports libvirt (it reads this when it initialises).
os.environ.setdefault("LIBVIRT_LOG_OUTPUTS", "4:file:/dev/null")
