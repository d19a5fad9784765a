"""The ``math`` op table.

Every op with an LLVM intrinsic uses it (LLVM 22 has ``llvm.tan``, ``llvm.atan``,
``llvm.tanh``, ``llvm.atan2`` and friends too); the backend scalarises vector calls to
the C library where the target has no vector instruction, and the JIT resolves those
symbols from libm (``jit.py`` loads it). Functions without any intrinsic (``erf``,
``cbrt``, ...) call libm directly, lane by lane.
"""

from __future__ import annotations

from llvmlite import ir
from xdsl.dialects import math
from xdsl.ir import Operation

from ccomp.backends.llvm.builder import Lowering, fastmath_flags
from ccomp.backends.llvm.ops_arith import OpLowering
from ccomp.backends.llvm.types import I1, I32, const

# math op -> llvm intrinsic, for ops whose intrinsic is overloaded on the operand type
_FLOAT_INTRINSICS = {
    math.SqrtOp: "sqrt", math.AbsFOp: "fabs", math.SinOp: "sin", math.CosOp: "cos", math.TanOp: "tan",
    math.AsinOp: "asin", math.AcosOp: "acos", math.AtanOp: "atan", math.Atan2Op: "atan2",
    math.SinhOp: "sinh", math.CoshOp: "cosh", math.TanhOp: "tanh",
    math.ExpOp: "exp", math.Exp2Op: "exp2", math.LogOp: "log", math.Log2Op: "log2", math.Log10Op: "log10",
    math.PowFOp: "pow", math.FloorOp: "floor", math.CeilOp: "ceil", math.RoundOp: "round",
    math.RoundEvenOp: "roundeven", math.TruncOp: "trunc", math.FmaOp: "fma", math.CopySignOp: "copysign",
}
# math op -> C library function (double name; float adds the ``f`` suffix)
_LIBM = {
    math.ErfOp: "erf", math.CbrtOp: "cbrt", math.ExpM1Op: "expm1", math.Log1pOp: "log1p",
    math.AsinhOp: "asinh", math.AcoshOp: "acosh", math.AtanhOp: "atanh",
}


def _float_intrinsic(base: str) -> OpLowering:
    def lower(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
        return lw.intrinsic(base, args, flags=fastmath_flags(op))

    return lower


def _libm(stem: str) -> OpLowering:
    def lower(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
        return lw.libm(stem, args)

    return lower


def _rsqrt(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    flags = fastmath_flags(op)
    root = lw.intrinsic("sqrt", args, flags=flags)
    return lw.builder.fdiv(const(root.type, 1.0), root, flags=flags)


def _absi(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    # ``false``: abs(INT_MIN) is INT_MIN, as in MLIR, not poison.
    return lw.intrinsic("abs", [args[0], ir.Constant(I1, 0)], overloads=[args[0].type])


def _bit_count(base: str) -> OpLowering:
    def lower(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
        extra = [] if base == "ctpop" else [ir.Constant(I1, 0)]
        return lw.intrinsic(base, [args[0], *extra], overloads=[args[0].type])

    return lower


def _fpowi(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    """``llvm.powi`` takes a scalar ``i32`` exponent, so vectors go lane by lane."""
    b = lw.builder

    def scalar(vals: list[ir.Value]) -> ir.Value:
        base, exp = vals
        if exp.type.width != 32:
            exp = b.trunc(exp, I32) if exp.type.width > 32 else b.sext(exp, I32)
        return lw.intrinsic("powi", [base, exp], overloads=[base.type, I32], flags=fastmath_flags(op))

    return lw.per_lane(scalar, args)


MATH_OPS: dict[type[Operation], OpLowering] = {
    **{op: _float_intrinsic(base) for op, base in _FLOAT_INTRINSICS.items()},
    **{op: _libm(stem) for op, stem in _LIBM.items()},
    math.RsqrtOp: _rsqrt,
    math.AbsIOp: _absi,
    math.CountLeadingZerosOp: _bit_count("ctlz"),
    math.CountTrailingZerosOp: _bit_count("cttz"),
    math.CtPopOp: _bit_count("ctpop"),
    math.FPowIOp: _fpowi,
}
