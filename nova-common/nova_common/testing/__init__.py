"""Test support for driver authors: the conformance suite, a recording VirtAPI and factories.

Install with the ``testing`` extra (``nova-common[testing]``) to get pytest.
"""
