"""Helpers for the differential tests (shared with the repeat-zone tests in
``tests/refutil.py``)."""

from refutil import TARGETS, assert_matches, reference  # noqa: F401
