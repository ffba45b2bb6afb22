"""nova-libvirt: the libvirt compute driver (registered as ``libvirt``)."""
