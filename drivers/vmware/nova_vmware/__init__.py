"""nova-vmware: the VMware vSphere compute driver (registered as ``vmware``)."""
