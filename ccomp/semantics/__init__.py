"""The NumPy meaning of the standard ``arith``, ``math`` and ``vector`` ops.

One definition, imported by the two places that evaluate these ops with NumPy: the
reference evaluator (``ccomp.reference``, the oracle every backend is tested against)
and the runtime's host schedule (``ccomp.runtime.host``). It lives apart from both so
that the runtime needs no reference evaluator and the reference no runtime; it imports
nothing of ccomp but the dialects.
"""
