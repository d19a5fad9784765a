"""The ``arith`` op table: one small function per op, scalar and ``vector<NxT>`` alike.

LLVM's instructions and intrinsics are already elementwise over vectors, so almost
every op is one instruction whatever its operand shape. The exceptions are spelled
out: ``floordivsi``/``ceildivsi`` need a correction step, ``constant`` reads dense
attributes, and ``cmpf``'s ``false``/``true`` fold to constants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from llvmlite import ir
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, FloatAttr, IntegerAttr
from xdsl.ir import Operation

from ccomp.backends.llvm.builder import Lowering, fastmath_flags, unsupported
from ccomp.backends.llvm.types import const, element_of

OpLowering = Callable[[Lowering, Operation, list[ir.Value], list[ir.Type]], ir.Value]

CMPF_PREDICATES = (
    "false", "oeq", "ogt", "oge", "olt", "ole", "one", "ord",
    "ueq", "ugt", "uge", "ult", "ule", "une", "uno", "true",
)
# arith.cmpi predicate number -> (signed?, llvmlite comparison)
CMPI_PREDICATES = (
    (True, "=="), (True, "!="), (True, "<"), (True, "<="), (True, ">"), (True, ">="),
    (False, "<"), (False, "<="), (False, ">"), (False, ">="),
)


def _scalar_const(t: ir.Type, attr: IntegerAttr | FloatAttr) -> ir.Constant:
    value = attr.value.data
    if isinstance(t, ir.IntType):
        return ir.Constant(t, int(value) & ((1 << t.width) - 1))
    return ir.Constant(t, float(value))


def _constant(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    attr = op.properties["value"]
    t = rt[0]
    if isinstance(attr, (IntegerAttr, FloatAttr)):
        return _scalar_const(t, attr)
    if isinstance(attr, DenseIntOrFPElementsAttr) and isinstance(t, ir.VectorType):
        values = attr.get_values()
        if len(values) == 1:
            values = values * t.count
        lanes = [
            ir.Constant(t.element, int(v) & ((1 << t.element.width) - 1))
            if isinstance(t.element, ir.IntType) else ir.Constant(t.element, float(v))
            for v in values
        ]
        return ir.Constant(t, lanes)
    raise unsupported(op, f"constant attribute {attr}")


def _binary(method: str, float_op: bool = False) -> OpLowering:
    """An op that is one LLVM binary instruction; float ops carry the fast-math flags,
    integer ops their ``nsw``/``nuw`` overflow flags."""

    def lower(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
        if float_op:
            flags: Sequence[str] = fastmath_flags(op)
        else:
            overflow = op.properties.get("overflowFlags")
            flags = sorted(str(getattr(f, "value", f)) for f in overflow.data) if overflow is not None else ()
        return getattr(lw.builder, method)(args[0], args[1], flags=tuple(flags))

    return lower


def _intrinsic(base: str, float_op: bool = False) -> OpLowering:
    """An op that is one overloaded LLVM intrinsic (``llvm.smin``, ``llvm.minimum``, ...)."""

    def lower(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
        return lw.intrinsic(base, args, flags=fastmath_flags(op) if float_op else ())

    return lower


def _negf(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    return lw.builder.fneg(args[0], flags=fastmath_flags(op))


def _safe_div(method: str) -> OpLowering:
    """Integer division and remainder that cannot trap: x / 0 = 0 and x % 0 = 0 (as
    the reference evaluator and the GPU targets give), and x / -1 is a negation, so
    INT_MIN / -1 wraps instead of raising SIGFPE and killing the host process."""
    signed = method.startswith("s")

    def lower(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
        b = lw.builder
        a, d = args
        t = a.type
        is_zero = b.icmp_unsigned("==", d, const(t, 0))
        bad = is_zero
        if signed:
            is_minus1 = b.icmp_signed("==", d, const(t, -1))
            bad = b.or_(is_zero, is_minus1)
        q = getattr(b, method)(a, b.select(bad, const(t, 1), d))
        if method == "sdiv":
            q = b.select(is_minus1, b.sub(const(t, 0), a), q)
        return b.select(is_zero, const(t, 0), q) if method != "srem" else b.select(bad, const(t, 0), q)

    return lower


def _div_rounded(toward: str) -> OpLowering:
    """``floordivsi`` / ``ceildivsi``: ``sdiv`` truncates, so step the quotient by one
    when the remainder is non-zero and its sign says truncation went the wrong way."""

    def lower(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
        b = lw.builder
        a, d = args
        t = a.type
        zero = const(t, 0)
        q = b.sdiv(a, d)
        r = b.srem(a, d)
        nonzero = b.icmp_signed("!=", r, zero)
        same_sign = b.icmp_signed("==", b.icmp_signed("<", r, zero), b.icmp_signed("<", d, zero))
        if toward == "floor":
            fix = b.and_(nonzero, b.not_(same_sign))
            return b.sub(q, b.zext(fix, t))
        fix = b.and_(nonzero, same_sign)
        return b.add(q, b.zext(fix, t))

    return lower


def _ceildivui(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    b = lw.builder
    a, d = args
    q = b.udiv(a, d)
    fix = b.icmp_unsigned("!=", b.urem(a, d), const(a.type, 0))
    return b.add(q, b.zext(fix, a.type))


def _cmpf(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    pred = CMPF_PREDICATES[op.properties["predicate"].value.data]  # type: ignore[attr-defined]
    return lw.builder.fcmp_ordered(pred, args[0], args[1], flags=fastmath_flags(op))


def _cmpi(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    signed, cmp = CMPI_PREDICATES[op.properties["predicate"].value.data]  # type: ignore[attr-defined]
    method = lw.builder.icmp_signed if signed else lw.builder.icmp_unsigned
    return method(cmp, args[0], args[1])


def _select(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    return lw.builder.select(args[0], args[1], args[2])


def _cast(method: str) -> OpLowering:
    def lower(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
        return getattr(lw.builder, method)(args[0], rt[0])

    return lower


def _index_cast(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    """``index_cast`` sign-extends when widening and truncates when narrowing."""
    src, dst = element_of(args[0].type), element_of(rt[0])
    if src.width == dst.width:
        return args[0]
    return (lw.builder.sext if dst.width > src.width else lw.builder.trunc)(args[0], rt[0])


def _bitcast(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    return lw.builder.bitcast(args[0], rt[0])


ARITH_OPS: dict[str, OpLowering] = {
    "arith.constant": _constant,
    "arith.addf": _binary("fadd", True),
    "arith.subf": _binary("fsub", True),
    "arith.mulf": _binary("fmul", True),
    "arith.divf": _binary("fdiv", True),
    "arith.remf": _binary("frem", True),
    "arith.negf": _negf,
    "arith.addi": _binary("add"),
    "arith.subi": _binary("sub"),
    "arith.muli": _binary("mul"),
    "arith.divsi": _safe_div("sdiv"),
    "arith.divui": _safe_div("udiv"),
    "arith.remsi": _safe_div("srem"),
    "arith.remui": _safe_div("urem"),
    "arith.floordivsi": _div_rounded("floor"),
    "arith.ceildivsi": _div_rounded("ceil"),
    "arith.ceildivui": _ceildivui,
    "arith.andi": _binary("and_"),
    "arith.ori": _binary("or_"),
    "arith.xori": _binary("xor"),
    "arith.shli": _binary("shl"),
    "arith.shrsi": _binary("ashr"),
    "arith.shrui": _binary("lshr"),
    "arith.minsi": _intrinsic("smin"),
    "arith.maxsi": _intrinsic("smax"),
    "arith.minui": _intrinsic("umin"),
    "arith.maxui": _intrinsic("umax"),
    "arith.minimumf": _intrinsic("minimum", True),
    "arith.maximumf": _intrinsic("maximum", True),
    "arith.minnumf": _intrinsic("minnum", True),
    "arith.maxnumf": _intrinsic("maxnum", True),
    "arith.cmpf": _cmpf,
    "arith.cmpi": _cmpi,
    "arith.select": _select,
    "arith.sitofp": _cast("sitofp"),
    "arith.uitofp": _cast("uitofp"),
    "arith.fptosi": _cast("fptosi"),
    "arith.fptoui": _cast("fptoui"),
    "arith.extf": _cast("fpext"),
    "arith.truncf": _cast("fptrunc"),
    "arith.extsi": _cast("sext"),
    "arith.extui": _cast("zext"),
    "arith.trunci": _cast("trunc"),
    "arith.index_cast": _index_cast,
    "arith.bitcast": _bitcast,
}
