"""Builds standard ``arith``/``math``/``vector`` ops for typed language values.

The same helpers serve uniform code at a graph's top level and per-element code in
``graph.map`` bodies: only the block they append to differs. Every op built here
carries the source location of the expression that asked for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects import arith, math, vector
from xdsl.dialects.builtin import (
    DenseArrayBase,
    FileLineColLoc,
    FloatAttr,
    IntAttr,
    IntegerAttr,
    StringAttr,
    VectorType,
    i1,
    i64,
)
from xdsl.ir import Block, Operation, SSAValue

from ccomp.frontend.types import Ty, mlir_type, vector_name

_FLOAT_BIN = {"+": arith.AddfOp, "-": arith.SubfOp, "*": arith.MulfOp, "/": arith.DivfOp,
              "min": arith.MinimumfOp, "max": arith.MaximumfOp}
_INT_BIN = {"+": arith.AddiOp, "-": arith.SubiOp, "*": arith.MuliOp, "/": arith.DivSIOp, "%": arith.RemSIOp,
            "min": arith.MinSIOp, "max": arith.MaxSIOp, "&&": arith.AndIOp, "||": arith.OrIOp}
_FCMP = {"<": "olt", "<=": "ole", ">": "ogt", ">=": "oge", "==": "oeq", "!=": "une"}
_ICMP = {"<": "slt", "<=": "sle", ">": "sgt", ">=": "sge", "==": "eq", "!=": "ne"}
MATH_UNARY = {"sqrt": math.SqrtOp, "sin": math.SinOp, "cos": math.CosOp, "exp": math.ExpOp,
              "floor": math.FloorOp, "abs": math.AbsFOp, "log": math.LogOp, "tan": math.TanOp,
              "ceil": math.CeilOp, "tanh": math.TanhOp, "exp2": math.Exp2Op, "log2": math.Log2Op}


class Emitter:
    """Appends ops to ``block``, stamping each with ``loc``."""

    def __init__(self, block: Block, file: str):
        self.block = block
        self.file = file
        self.loc: FileLineColLoc | None = None

    def at(self, line: int, col: int) -> "Emitter":
        self.loc = FileLineColLoc(StringAttr(self.file), IntAttr(line), IntAttr(col))
        return self

    def add(self, op: Operation) -> SSAValue | None:
        if self.loc is not None:
            op.location = self.loc
        self.block.add_op(op)
        return op.results[0] if op.results else None

    # ----- constants and conversions ----------------------------------------

    def const(self, ty: Ty, value: float | int | bool) -> SSAValue:
        scalar = Ty(ty.scalar)
        if scalar.is_float:
            c = self.add(arith.ConstantOp(FloatAttr(float(value), mlir_type(scalar.elem))))
        elif scalar.elem == "bool":
            c = self.add(arith.ConstantOp(IntegerAttr(int(bool(value)), i1)))
        else:
            c = self.add(arith.ConstantOp(IntegerAttr(int(value), mlir_type(scalar.elem))))
        return self.splat(c, ty) if ty.is_vector else c

    def splat(self, value: SSAValue, ty: Ty) -> SSAValue:
        """Broadcast a scalar to the vector type ``ty``."""
        return self.add(vector.BroadcastOp(value, mlir_type(ty.elem)))

    def convert(self, value: SSAValue, src: Ty, dst_scalar: str) -> SSAValue:
        """Convert between i32, i64, f32, f64 and bool, lane-wise for vectors."""
        if src.scalar == dst_scalar:
            return value
        if src.is_vector:  # arith casts take scalars only (xDSL 0.74): convert lane by lane
            lanes = [self.convert(self.extract(value, i), Ty(src.scalar), dst_scalar) for i in range(src.lanes)]
            return self.build(lanes, Ty(vector_name(dst_scalar, src.lanes)))
        dst = Ty(dst_scalar)
        target = mlir_type(dst.elem)
        if src.is_int and dst.is_float:
            return self.add(arith.SIToFPOp(value, target))
        if src.is_float and dst.is_int:
            return self.add(arith.FPToSIOp(value, target))
        if src.is_float and dst.is_float:  # f32 <-> f64
            return self.add((arith.ExtFOp if dst_scalar == "f64" else arith.TruncFOp)(value, target))
        if src.is_int and dst.is_int:  # i32 <-> i64: sign-extend, or wrap to the low bits
            return self.add((arith.ExtSIOp if dst_scalar == "i64" else arith.TruncIOp)(value, target))
        if src.scalar == "bool" and dst.is_int:
            return self.add(arith.ExtUIOp(value, target))
        if src.scalar == "bool" and dst.is_float:
            one, zero = self.const(dst, 1.0), self.const(dst, 0.0)
            return self.add(arith.SelectOp(value, one, zero))
        if dst_scalar == "bool":
            zero = self.const(src, 0)
            return self.compare("!=", value, zero, src)
        raise KeyError(f"no conversion from {src.elem} to {dst_scalar}")

    # ----- arithmetic ---------------------------------------------------------

    def binary(self, op: str, a: SSAValue, b: SSAValue, ty: Ty) -> SSAValue:
        """``a op b`` where both operands already have element type ``ty``."""
        if ty.is_float:
            if op == "%":  # truncated like the integer remainder: a - b * trunc(a / b)
                q = self.add(math.TruncOp(self.add(arith.DivfOp(a, b))))
                return self.add(arith.SubfOp(a, self.add(arith.MulfOp(b, q))))
            return self.add(_FLOAT_BIN[op](a, b))
        return self.add(_INT_BIN[op](a, b))

    def compare(self, op: str, a: SSAValue, b: SSAValue, ty: Ty) -> SSAValue:
        if ty.is_float:
            return self.add(arith.CmpfOp(a, b, _FCMP[op]))
        return self.add(arith.CmpiOp(a, b, _ICMP[op]))

    def negate(self, a: SSAValue, ty: Ty) -> SSAValue:
        if ty.is_float:
            return self.add(arith.NegfOp(a))
        return self.add(arith.SubiOp(self.const(ty, 0), a))

    def logical_not(self, a: SSAValue) -> SSAValue:
        return self.add(arith.XOrIOp(a, self.const(Ty("bool"), True)))

    def select(self, cond: SSAValue, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.add(arith.SelectOp(cond, a, b))

    def math(self, name: str, a: SSAValue, ty: Ty) -> SSAValue:
        if name == "abs" and ty.is_int:
            return self.add(math.AbsIOp(a))
        return self.add(MATH_UNARY[name](a))

    def pow(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.add(math.PowFOp(a, b))

    # ----- vectors ------------------------------------------------------------

    def extract(self, v: SSAValue, lane: int) -> SSAValue:
        assert isinstance(v.type, VectorType)
        return self.add(vector.ExtractOp.create(
            operands=[v], result_types=[v.type.element_type],
            properties={"static_position": DenseArrayBase.from_list(i64, [lane])}))

    def insert(self, scalar: SSAValue, v: SSAValue, lane: int) -> SSAValue:
        return self.add(vector.InsertOp.create(
            operands=[scalar, v], result_types=[v.type],
            properties={"static_position": DenseArrayBase.from_list(i64, [lane])}))

    def shuffle(self, v: SSAValue, lanes: Sequence[int]) -> SSAValue:
        assert isinstance(v.type, VectorType)
        result = VectorType(v.type.element_type, [len(lanes)])
        return self.add(vector.ShuffleOp.create(
            operands=[v, v], result_types=[result],
            properties={"mask": DenseArrayBase.from_list(i64, list(lanes))}))

    def build(self, scalars: Sequence[SSAValue], ty: Ty) -> SSAValue:
        """A vector of type ``ty`` from one scalar per lane."""
        v = self.splat(scalars[0], ty)
        for lane, s in enumerate(scalars[1:], start=1):
            if s is not scalars[0]:
                v = self.insert(s, v, lane)
        return v

    def reduce_add(self, v: SSAValue) -> SSAValue:
        assert isinstance(v.type, VectorType)
        return self.add(vector.ReductionOp.create(
            operands=[v], result_types=[v.type.element_type],
            properties={"kind": vector.CombiningKindAttr(vector.CombiningKindFlag.ADD),
                        "fastmath": arith.FastMathFlagsAttr("none")}))
