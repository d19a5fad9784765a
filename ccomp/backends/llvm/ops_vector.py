"""The ``vector`` op table, for 1-d fixed vectors (``vector<NxT>``, the element types of
images). Positions may be static or dynamic; multi-dimensional vectors are refused by
``types.vector_lanes`` before any op here runs."""

from __future__ import annotations

from llvmlite import ir
from xdsl.dialects import vector
from xdsl.dialects.builtin import DYNAMIC_INDEX
from xdsl.ir import Operation

from ccomp.backends.llvm.builder import Lowering, fastmath_flags, unsupported
from ccomp.backends.llvm.ops_arith import OpLowering
from ccomp.backends.llvm.types import I32, const, element_of, is_float

# combining kind -> (integer intrinsic, float intrinsic) for llvm.vector.reduce.*
_REDUCE_KINDS = {
    "add": ("add", "fadd"), "mul": ("mul", "fmul"),
    "minsi": ("smin", None), "maxsi": ("smax", None),
    "minui": ("umin", None), "maxui": ("umax", None),
    "minnumf": (None, "fmin"), "maxnumf": (None, "fmax"),
    "minimumf": (None, "fminimum"), "maximumf": (None, "fmaximum"),
    "and": ("and", None), "or": ("or", None), "xor": ("xor", None),
}
# the reduction kind's binary op, to fold in an accumulator operand
_COMBINE = {
    "add": "add", "mul": "mul", "and": "and_", "or": "or_", "xor": "xor",
    "smin": "smin", "smax": "smax", "umin": "umin", "umax": "umax",
    "fmin": "minnum", "fmax": "maxnum", "fminimum": "minimum", "fmaximum": "maximum",
}


def _splat(lw: Lowering, scalar: ir.Value, t: ir.VectorType) -> ir.Value:
    b = lw.builder
    one = b.insert_element(ir.Constant(t, ir.Undefined), scalar, ir.Constant(I32, 0))
    return b.shuffle_vector(one, ir.Constant(t, ir.Undefined), ir.Constant(ir.VectorType(I32, t.count), [0] * t.count))


def _broadcast(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    src, t = args[0], rt[0]
    if src.type == t:
        return src
    if isinstance(src.type, ir.VectorType):
        if src.type.count != 1:
            raise unsupported(op, "only scalars and single-lane vectors broadcast")
        src = lw.builder.extract_element(src, ir.Constant(I32, 0))
    return _splat(lw, src, t)


def _position(op: Operation, dynamic: list[ir.Value]) -> ir.Value | None:
    """The lane an extract/insert addresses, or None when it takes the whole vector."""
    static = op.properties["static_position"].get_values()  # type: ignore[attr-defined]
    if len(static) > 1:
        raise unsupported(op, "only 1-d vectors are supported")
    if not static:
        return None
    return dynamic[0] if static[0] == DYNAMIC_INDEX else ir.Constant(I32, static[0])


def _extract(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    pos = _position(op, args[1:])
    return args[0] if pos is None else lw.builder.extract_element(args[0], pos)


def _insert(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    pos = _position(op, args[2:])
    return args[0] if pos is None else lw.builder.insert_element(args[1], args[0], pos)


def _shuffle(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    a, b = args
    if not isinstance(a.type, ir.VectorType):
        raise unsupported(op, "0-d vector operands")
    n1, n2 = a.type.count, b.type.count
    n = max(n1, n2)

    def pad(v: ir.Value, have: int) -> ir.Value:
        # LLVM shuffles two vectors of one type: lengthen the shorter with don't-care lanes.
        if have == n:
            return v
        lanes = list(range(have)) + [0] * (n - have)
        return lw.builder.shuffle_vector(v, ir.Constant(v.type, ir.Undefined),
                                         ir.Constant(ir.VectorType(I32, n), lanes))

    # -1 marks a lane whose value does not matter: any in-range lane will do.
    mask = [0 if m < 0 else m if m < n1 else n + m - n1
            for m in op.properties["mask"].get_values()]  # type: ignore[attr-defined]
    return lw.builder.shuffle_vector(pad(a, n1), pad(b, n2), ir.Constant(ir.VectorType(I32, len(mask)), mask))


def combine(lw: Lowering, base: str, a: ir.Value, b: ir.Value, flags: tuple[str, ...] = ()) -> ir.Value:
    """``a <op> b`` for a reduction intrinsic's base name (``fadd`` -> ``fadd``, ``smin`` -> ``llvm.smin``)."""
    name = _COMBINE.get(base, base)
    if name in ("add", "mul", "and_", "or_", "xor"):
        return getattr(lw.builder, name)(a, b)
    if base in ("fadd", "fmul"):
        return getattr(lw.builder, base)(a, b, flags=flags)
    return lw.intrinsic(name, [a, b], flags=flags if is_float(a.type) else ())


def _reduction(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    kind = op.properties["kind"].data.value  # type: ignore[attr-defined]
    vec = args[0]
    floating = is_float(vec.type)
    base = _REDUCE_KINDS[kind][1 if floating else 0]
    if base is None:
        raise unsupported(op, f"reduction <{kind}> on {'float' if floating else 'integer'} vectors")
    flags = fastmath_flags(op)
    elem = element_of(vec.type)
    acc = args[1] if len(args) > 1 else None
    if base in ("fadd", "fmul"):
        start = acc if acc is not None else const(elem, -0.0 if base == "fadd" else 1.0)
        return lw.intrinsic(f"vector.reduce.{base}", [start, vec], overloads=[vec.type], ret=elem, flags=flags)
    red = lw.intrinsic(f"vector.reduce.{base}", [vec], overloads=[vec.type], ret=elem, flags=flags if floating else ())
    return red if acc is None else combine(lw, base, red, acc, flags)


def _fma(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    return lw.intrinsic("fma", args, flags=fastmath_flags(op))


def _bitcast(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    return lw.builder.bitcast(args[0], rt[0])


VECTOR_OPS: dict[type[Operation], OpLowering] = {
    vector.BroadcastOp: _broadcast,
    vector.ExtractOp: _extract,
    vector.InsertOp: _insert,
    vector.ShuffleOp: _shuffle,
    vector.ReductionOp: _reduction,
    vector.FMAOp: _fma,
    vector.BitcastOp: _bitcast,
}
