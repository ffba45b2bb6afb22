"""nova-hyperv: the Hyper-V compute driver over os-win (registered as ``hyperv``)."""
