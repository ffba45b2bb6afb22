"""nova-split's repository tooling, run as ``build-support/bin/nova-split COMMAND`` (``--help`` lists them).

Each command is a ``*_cmd.py`` module that parses its arguments, calls the logic and prints the
result; the logic lives in the other modules (changes, plans and the build graph; subprojects and
their metadata; owners and approvals; releases; closure clones; export and import), which commands
share. build-support's BUILD refuses a command module importing another, and a test importing a
test: shared test helpers are in ``nova_split_tools.testing``.
"""
