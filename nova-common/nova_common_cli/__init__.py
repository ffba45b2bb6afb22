"""The command-line plumbing ``nova-compute`` and the repository's ``nova-split`` share.

Argument conventions and exit codes (:mod:`nova_common_cli.args`), progress on stderr
(:mod:`nova_common_cli.progress`) and shell completion (:mod:`nova_common_cli.completion`). It imports nothing
of :mod:`nova_common`: a tool that uses it depends on nothing of the driver API, so a change to
the driver API does not reach the tooling's tests through its command-line plumbing.
Core-internal like :mod:`nova_common.compute`: drivers must not import it.
"""
