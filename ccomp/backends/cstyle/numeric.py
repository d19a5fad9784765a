"""Defined numeric semantics in the C-style emitters (a mixin of ``CStyleEmitter``).

The plain C spelling of some ops is undefined behaviour or differs from the
specification, which is the reference evaluator (``ccomp.semantics.arith_math``) and
the llvm target:

- ``i32``/``i64`` ``+ - * <<`` wrap in ccomp. In OpenCL C (C99) signed overflow is
  undefined, and PoCL's clang exploits it: with ``int v = y + 2147483647`` the
  clamped read ``a[x, y + 2147483647]`` of a 4x3 image returned other rows than the
  wrapped index selects, and issue 15 saw it read outside the image. OpenCL spells these ops in unsigned arithmetic, which C defines modulo 2^N, and
  reinterprets the bits with ``as_int``/``as_long`` (a bit copy, never an
  out-of-range conversion). GLSL 4.30 defines wrapping itself (section 4.1.3: an
  overflowing add, subtract or multiply gives the low-order 32 bits), so it keeps
  the operators. ``index`` arithmetic is the compiler's own (offsets and clamped
  coordinates inside buffers that exist) and stays native, so PoCL keeps its
  no-signed-wrap facts for address arithmetic.
- ``minimumf``/``maximumf`` (``min``, ``max``, ``clamp``, ``smoothstep`` and the
  ``min``/``max`` reductions) return NaN when either operand is NaN and order -0.0
  below +0.0 (IEEE 754-2019 minimum/maximum, LLVM's ``llvm.minimum``). OpenCL's
  ``fmin``/``fmax`` return the other operand instead, and GLSL's ``min``/``max`` are
  undefined on NaN: both targets get the comparison chain of ``float_min_max``.
  (GLSL's further float measures, ``precise`` locals and an opaque zero, are in
  ``glsl.py``.)
- ``fptosi`` of NaN or of a value outside the integer's range is undefined in C and
  GLSL (LLVM: poison). A poisoned integer that reaches a clamped image index is an
  out-of-bounds read, e.g. ``sample`` at a NaN coordinate. The emitters give the
  value x86 gives, and with it the reference (NumPy) and the llvm target on x86:
  the most negative integer of the destination type.
"""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerType
from xdsl.ir import Attribute, Operation

from ccomp.backends.cstyle.types import element_of, is_bool, is_float
from ccomp.backends.dispatch import emits

_WRAPPING = {arith.AddiOp: "+", arith.SubiOp: "-", arith.MuliOp: "*", arith.ShLIOp: "<<"}


def wide_int(t: Attribute) -> int:
    """The width of ``t``'s elements if they are language integers (i32, i64), else 0."""
    e = element_of(t)
    return e.width.data if isinstance(e, IntegerType) and e.width.data in (32, 64) else 0


class NumericOps:
    """Ops given ccomp's semantics where C's are undefined; relies on ``CStyleEmitter``."""

    # ---- target hooks -------------------------------------------------------------------
    def wrapping(self, sym: str, a: str, b: str, t: Attribute) -> str:
        """``a sym b`` on i32/i64 ``t`` (scalar or vector), wrapping on overflow. The
        default is the bare operator, for languages that define the wrap (GLSL)."""
        return f"{a} {sym} {b}"

    def negate(self, a: str, t: Attribute) -> str:
        """``-a`` on i32/i64 ``t`` wrapping (``-INT_MIN`` is ``INT_MIN``)."""
        return f"-{a}"

    def float_min_max(self, kind: str, a: str, b: str, t: Attribute) -> str:
        """IEEE 754-2019 ``minimum``/``maximum`` (``kind`` "min"/"max") of float ``t``:
        NaN if either operand is NaN, -0.0 below +0.0."""
        raise NotImplementedError

    # ---- ops --------------------------------------------------------------------------
    @emits(arith.AddiOp, arith.SubiOp, arith.MuliOp, arith.ShLIOp)
    def op_arith_wrapping(self, op: Operation) -> None:
        t = op.results[0].type
        if is_bool(t) or not wide_int(t):
            self.binary(op)  # index arithmetic, and i1's own table
            return
        a, b = (self.name(o) for o in op.operands)
        self.define(op.results[0], self.wrapping(_WRAPPING[type(op)], a, b, t))

    @emits(arith.MinimumfOp, arith.MaximumfOp)
    def op_arith_min_max_f(self, op: Operation) -> None:
        kind = "min" if isinstance(op, arith.MinimumfOp) else "max"
        a, b = (self.name(o) for o in op.operands)
        self.define(op.results[0], self.float_min_max(kind, a, b, op.results[0].type))

    @emits(arith.FPToSIOp)
    def op_arith_fptosi(self, op: Operation) -> None:
        """In range, C's truncating conversion; NaN and out of range, the most negative
        integer (x86's "integer indefinite"), tested before converting."""
        src, dst = op.operands[0].type, op.results[0].type
        width = wide_int(dst)
        if not width or not is_float(src):
            self._cast(op)
            return
        fs, ds = element_of(src), element_of(dst)
        hi = self.float_literal(2.0 ** (width - 1), fs)  # exact in f32 and f64
        fallback = self.int_literal(-(1 << (width - 1)), ds)
        fmt = f"({{0}} >= -{hi} && {{0}} < {hi}) ? {self.convert('{0}', fs, ds)} : {fallback}"
        self.define(op.results[0], self.lanewise(dst, fmt, self.name(op.operands[0])))
