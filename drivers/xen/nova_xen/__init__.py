"""nova-xen: the XenServer / XCP-ng compute driver over XenAPI (registered as ``xen``)."""
