"""Helpers for the tooling's tests: real git repositories and graphs in the shape Pants gives.

Test modules import from here, never from one another (build-support's BUILD enforces it).
"""
