"""nova-split's repository tooling: change-aware CI plans (and, later, releases, clones, owners).

Run it as ``build-support/bin/nova-split COMMAND``; ``--help`` lists the commands.
"""
