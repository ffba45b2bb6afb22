"""nova-ironic: the Ironic bare-metal compute driver (registered as ``ironic``)."""
