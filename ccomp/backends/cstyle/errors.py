"""The error a C-style emitter raises for IR it cannot express."""

from __future__ import annotations


class EmitError(Exception):
    """A kernel uses an op or type this backend cannot express; names op and location."""
