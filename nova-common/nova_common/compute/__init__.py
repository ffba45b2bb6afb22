"""The compute service glue: drives a loaded driver and keeps instance records in SQLite.

Core-internal: drivers must not import it (the build graph's visibility rules forbid it).
"""
