"""The illegal-dialect rule (MLIR Toy, chapter 5): after a lowering, nothing of the
dialect it lowers remains.

A lowering walks its source ops and keeps every op it does not lower — the
``arith``/``math``/``vector``/``scf`` code around them — by cloning it. Cloning
an op of the source dialect would carry a forgotten case through silently, into a
backend that cannot emit it; so :func:`keep` refuses those, naming the op, and
:func:`check_legal` walks the result once more, catching ops nested in regions a
lowering copied whole. Both raise :class:`~ccomp.diagnostics.PassError` as internal
errors: a program the frontend accepted must lower, so a leftover is a compiler bug,
reported at the op's ``.cn`` location.
"""

from __future__ import annotations

from xdsl.ir import Operation, SSAValue

from ccomp.diagnostics import PassError


def keep(op: Operation, mapping: dict[SSAValue, SSAValue], dialect: str, pass_name: str) -> Operation:
    """A clone of ``op`` (operands through ``mapping``, which learns its results) for an
    op the lowering passes through; an op of ``dialect`` is an unhandled case."""
    if op.name.startswith(dialect + "."):
        raise PassError(op, f"{pass_name} does not lower '{op.name}'", internal=True)
    clone = op.clone(value_mapper=mapping)
    for old, new in zip(op.results, clone.results):
        mapping[old] = new
    return clone


def check_legal(module: Operation, dialect: str, pass_name: str) -> None:
    """Raise at the first op of ``dialect`` left anywhere in ``module``."""
    prefix = dialect + "."
    for op in module.walk():
        if op.name.startswith(prefix):
            raise PassError(op, f"'{op.name}' is left after {pass_name}, which lowers every {dialect} op",
                            internal=True)
