"""The ``arith`` op table: one small function per op, scalar and ``vector<NxT>`` alike.

LLVM's instructions and intrinsics are already elementwise over vectors, so almost
every op is one instruction whatever its operand shape. The exceptions are spelled
out: ``floordivsi``/``ceildivsi`` need a correction step, ``constant`` reads dense
attributes, and ``cmpf``'s ``false``/``true`` fold to constants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from llvmlite import ir
from xdsl.dialects import arith
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


def _fptosi(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    """``fptosi`` with the language's answer out of range: NaN, infinities and values
    outside ``[-2^(N-1), 2^(N-1))`` give the smallest integer (docs/language.md,
    "Numeric semantics"), as the OpenCL and GLSL targets compute it. LLVM's own
    ``fptosi`` is poison there, which its constant folder turns into any value: ``i32(u)``
    of a uniform ``u = 1e30`` gave 15 instead of -2147483648 (found by
    tools/fuzz_targets.py)."""
    b, x, t = lw.builder, args[0], rt[0]
    bound = 2.0 ** (element_of(t).width - 1)
    ok = b.and_(b.fcmp_ordered(">=", x, const(x.type, -bound)), b.fcmp_ordered("<", x, const(x.type, bound)))
    return b.select(ok, b.fptosi(x, t), const(t, -int(bound)))


def _index_cast(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    """``index_cast`` sign-extends when widening and truncates when narrowing."""
    src, dst = element_of(args[0].type), element_of(rt[0])
    if src.width == dst.width:
        return args[0]
    return (lw.builder.sext if dst.width > src.width else lw.builder.trunc)(args[0], rt[0])


def _bitcast(lw: Lowering, op: Operation, args: list[ir.Value], rt: list[ir.Type]) -> ir.Value:
    return lw.builder.bitcast(args[0], rt[0])


ARITH_OPS: dict[type[Operation], OpLowering] = {
    arith.ConstantOp: _constant,
    arith.AddfOp: _binary("fadd", True),
    arith.SubfOp: _binary("fsub", True),
    arith.MulfOp: _binary("fmul", True),
    arith.DivfOp: _binary("fdiv", True),
    arith.NegfOp: _negf,
    arith.AddiOp: _binary("add"),
    arith.SubiOp: _binary("sub"),
    arith.MuliOp: _binary("mul"),
    arith.DivSIOp: _safe_div("sdiv"),
    arith.DivUIOp: _safe_div("udiv"),
    arith.RemSIOp: _safe_div("srem"),
    arith.RemUIOp: _safe_div("urem"),
    arith.FloorDivSIOp: _div_rounded("floor"),
    arith.CeilDivSIOp: _div_rounded("ceil"),
    arith.CeilDivUIOp: _ceildivui,
    arith.AndIOp: _binary("and_"),
    arith.OrIOp: _binary("or_"),
    arith.XOrIOp: _binary("xor"),
    arith.ShLIOp: _binary("shl"),
    arith.ShRSIOp: _binary("ashr"),
    arith.ShRUIOp: _binary("lshr"),
    arith.MinSIOp: _intrinsic("smin"),
    arith.MaxSIOp: _intrinsic("smax"),
    arith.MinUIOp: _intrinsic("umin"),
    arith.MaxUIOp: _intrinsic("umax"),
    arith.MinimumfOp: _intrinsic("minimum", True),
    arith.MaximumfOp: _intrinsic("maximum", True),
    arith.MinnumfOp: _intrinsic("minnum", True),
    arith.MaxnumfOp: _intrinsic("maxnum", True),
    arith.CmpfOp: _cmpf,
    arith.CmpiOp: _cmpi,
    arith.SelectOp: _select,
    arith.SIToFPOp: _cast("sitofp"),
    arith.UIToFPOp: _cast("uitofp"),
    arith.FPToSIOp: _fptosi,
    arith.FPToUIOp: _cast("fptoui"),
    arith.ExtFOp: _cast("fpext"),
    arith.TruncFOp: _cast("fptrunc"),
    arith.ExtSIOp: _cast("sext"),
    arith.ExtUIOp: _cast("zext"),
    arith.TruncIOp: _cast("trunc"),
    arith.IndexCastOp: _index_cast,
    arith.BitcastOp: _bitcast,
}
