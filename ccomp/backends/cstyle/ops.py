"""The op table of the C-style emitters: arith, math, vector, scf and kern.

A mixin of ``CStyleEmitter`` (``base.py``), kept apart so the emitter's structure
(bindings, buffers, reduction) and its per-op spellings each stay readable. Every table
is keyed on op classes (``ccomp.backends.dispatch``): an op is handled by a method
marked ``@emits(OpClass)``, else by the ``BINOPS`` operator table, else by the
``FUNCS`` built-in table (targets override entries, e.g. ``math.absf`` is ``abs`` in
GLSL and ``fabs`` in OpenCL). The ops whose C spelling would be undefined or differ
from the reference (wrapping integers, NaN-propagating min/max, float-to-int) are
in ``numeric.py``. Semantics follow MLIR: ``divsi``/``remsi``
truncate like C, ``cmpf`` distinguishes ordered from unordered predicates (C's ``<``
is false on NaN, i.e. ordered; ``!=`` is true on NaN, i.e. unordered), and i1 is -1
when sign-extended.
"""

from __future__ import annotations

from functools import reduce
from typing import ClassVar

from xdsl.dialects import arith, math, scf, vector
from xdsl.dialects.arith import CMPF_COMPARISON_OPERATIONS, CMPI_COMPARISON_OPERATIONS
from xdsl.dialects.builtin import VectorType
from xdsl.ir import Attribute, Operation

from ccomp.backends.cstyle.types import is_bool, is_float, lanes_of
from ccomp.backends.dispatch import emits
from ccomp.dialects import kern

_MIN_MAX_KINDS = {"minsi": arith.MinSIOp, "maxsi": arith.MaxSIOp, "minnumf": arith.MinnumfOp,
                  "maxnumf": arith.MaxnumfOp}
_LOGICAL_KINDS = {"and": arith.AndIOp, "or": arith.OrIOp, "xor": arith.XOrIOp}


class OpTable:
    """Per-op emission; relies on ``CStyleEmitter`` for naming, types and output."""

    BINOPS: ClassVar[dict[type[Operation], str]] = {
        arith.AddfOp: "+", arith.SubfOp: "-", arith.MulfOp: "*", arith.DivfOp: "/",
        arith.AddiOp: "+", arith.SubiOp: "-", arith.MuliOp: "*", arith.DivSIOp: "/",
        arith.RemSIOp: "%", arith.AndIOp: "&", arith.OrIOp: "|", arith.XOrIOp: "^",
        arith.ShLIOp: "<<", arith.ShRSIOp: ">>",
    }
    BOOL_BINOPS: ClassVar[dict[type[Operation], str]] = {arith.AndIOp: "&&", arith.OrIOp: "||", arith.XOrIOp: "!="}
    FUNCS: ClassVar[dict[type[Operation], str]] = {
        math.SqrtOp: "sqrt", math.SinOp: "sin", math.CosOp: "cos", math.TanOp: "tan",
        math.ExpOp: "exp", math.Exp2Op: "exp2", math.LogOp: "log", math.Log2Op: "log2",
        math.PowFOp: "pow", math.FloorOp: "floor", math.CeilOp: "ceil", math.TruncOp: "trunc",
        math.FmaOp: "fma", vector.FMAOp: "fma", math.TanhOp: "tanh", math.AtanOp: "atan",
        math.AbsIOp: "abs", arith.MinSIOp: "min", arith.MaxSIOp: "max",
    }
    CMPF: ClassVar[dict[str, str]] = {
        "false": "false", "true": "true",
        "oeq": "{a} == {b}", "ogt": "{a} > {b}", "oge": "{a} >= {b}", "olt": "{a} < {b}",
        "ole": "{a} <= {b}", "one": "({a} < {b} || {a} > {b})", "ord": "({a} == {a} && {b} == {b})",
        "ueq": "!({a} < {b} || {a} > {b})", "ugt": "!({a} <= {b})", "uge": "!({a} < {b})",
        "ult": "!({a} >= {b})", "ule": "!({a} > {b})", "une": "{a} != {b}",
        "uno": "({a} != {a} || {b} != {b})",
    }
    CMPI: ClassVar[dict[str, str]] = {
        "eq": "==", "ne": "!=", "slt": "<", "sle": "<=", "sgt": ">", "sge": ">=",
        "ult": "<", "ule": "<=", "ugt": ">", "uge": ">=",
    }

    def as_unsigned(self, expr: str, t: Attribute) -> str:
        """Reinterpret a signless integer (scalar or vector ``t``) as unsigned."""
        raise NotImplementedError

    def literal(self, value: float | int, t: Attribute) -> str:
        if is_float(t):
            return self.float_literal(float(value), t)
        if is_bool(t):
            return "true" if value else "false"
        return self.int_literal(int(value), t)

    def lanewise(self, t: Attribute, fmt: str, *operands: str) -> str:
        """``fmt`` over scalars, or lane by lane over vectors (for ops C has no vector form of)."""
        if not isinstance(t, VectorType):
            return fmt.format(*operands)
        return self.componentwise(t, lambda k: fmt.format(*(self.comp(o, k) for o in operands)))

    # ---- arith -------------------------------------------------------------------------
    @emits(arith.ConstantOp)
    def op_arith_constant(self, op: arith.ConstantOp) -> None:
        t = op.result.type
        if isinstance(t, VectorType):
            lits = [self.literal(x, t.element_type) for x in op.value.get_values()]
            expr = self.construct(t, lits[:1] if len(set(lits)) == 1 else lits)
        else:
            expr = self.literal(op.value.value.data, t)
        self.define(op.result, expr)

    def binary(self, op: Operation) -> None:
        """An op of the ``BINOPS`` table: a C operator (``BOOL_BINOPS`` on i1)."""
        t = op.results[0].type
        a, b = (self.name(o) for o in op.operands)
        if is_bool(t):
            if type(op) not in self.BOOL_BINOPS:
                raise self.unsupported(op, "on i1")
            expr = self.lanewise(t, "{} " + self.BOOL_BINOPS[type(op)] + " {}", a, b)
        else:
            expr = f"{a} {self.BINOPS[type(op)]} {b}"
        self.define(op.results[0], expr)

    def call(self, op: Operation) -> None:
        """An op of the ``FUNCS`` table: a call of the target's built-in function."""
        args = ", ".join(self.name(o) for o in op.operands)
        self.define(op.results[0], f"{self.FUNCS[type(op)]}({args})")

    @emits(arith.NegfOp)
    def op_arith_negf(self, op: arith.NegfOp) -> None:
        self.define(op.result, f"-{self.name(op.operand)}")

    def _check_compare(self, op: Operation) -> None:
        if isinstance(op.lhs.type, VectorType) and not isinstance(op.result.type, VectorType):
            # xDSL 0.74 types every cmpf/cmpi result i1, even on vectors: no lane mask to emit
            raise self.unsupported(op, "a vector comparison needs a vector<Nxi1> result")

    @emits(arith.CmpfOp)
    def op_arith_cmpf(self, op: arith.CmpfOp) -> None:
        self._check_compare(op)
        fmt = self.CMPF[CMPF_COMPARISON_OPERATIONS[op.predicate.value.data]]
        self.define(op.result, self.lanewise(op.lhs.type, fmt.replace("{a}", "{0}").replace("{b}", "{1}"),
                                             self.name(op.lhs), self.name(op.rhs)))

    @emits(arith.CmpiOp)
    def op_arith_cmpi(self, op: arith.CmpiOp) -> None:
        self._check_compare(op)
        pred = CMPI_COMPARISON_OPERATIONS[op.predicate.value.data]
        e = op.lhs.type.element_type if isinstance(op.lhs.type, VectorType) else op.lhs.type
        a, b = ("{0}", "{1}") if pred[0] != "u" else (self.as_unsigned("{0}", e), self.as_unsigned("{1}", e))
        fmt = f"{a} {self.CMPI[pred]} {b}"
        self.define(op.result, self.lanewise(op.lhs.type, fmt, self.name(op.lhs), self.name(op.rhs)))

    @emits(arith.SelectOp)
    def op_arith_select(self, op: arith.SelectOp) -> None:
        c, a, b = self.name(op.cond), self.name(op.lhs), self.name(op.rhs)
        if isinstance(op.cond.type, VectorType):  # a lane mask (not produced by xDSL 0.74's cmp ops)
            expr = self.lanewise(op.result.type, "{} ? {} : {}", c, a, b)
        else:
            expr = f"{c} ? {a} : {b}"
        self.define(op.result, expr)

    @emits(arith.SIToFPOp, arith.FPToSIOp, arith.ExtFOp, arith.TruncFOp, arith.IndexCastOp, arith.ExtSIOp)
    def _cast(self, op: Operation, signed: bool = True) -> None:
        src, dst = op.operands[0].type, op.results[0].type
        a = self.name(op.operands[0])
        if not signed and not is_bool(src):
            a = self.as_unsigned(a, src)
        expr = self.convert(a, src, dst)
        if signed and is_bool(src) and not is_bool(dst):
            expr = f"-{expr}"  # i1 true is -1 as a signed integer
        self.define(op.results[0], expr)

    @emits(arith.ExtUIOp)
    def op_arith_extui(self, op: arith.ExtUIOp) -> None:
        self._cast(op, signed=False)

    @emits(arith.UIToFPOp)
    def op_arith_uitofp(self, op: arith.UIToFPOp) -> None:
        self._cast(op, signed=False)

    @emits(arith.TruncIOp)
    def op_arith_trunci(self, op: arith.TruncIOp) -> None:
        if is_bool(op.result.type):
            self.define(op.result, self.lanewise(op.input.type, "({} & 1) != 0", self.name(op.input)))
        else:
            self._cast(op)

    # ---- vector ------------------------------------------------------------------------
    @emits(vector.BroadcastOp)
    def op_vector_broadcast(self, op: vector.BroadcastOp) -> None:
        a = self.name(op.source)
        if isinstance(op.source.type, VectorType):
            if op.source.type != op.vector.type:
                raise self.unsupported(op, "only scalar-to-vector broadcasts")
            self.define(op.vector, a)
        else:
            self.define(op.vector, self.construct(op.vector.type, [a]))

    def _lane_expr(self, vec: str, pos, lanes: int) -> str:
        if isinstance(pos, int):
            return self.comp(vec, pos)
        i = self.name(pos)
        expr = self.comp(vec, lanes - 1)
        for k in range(lanes - 2, -1, -1):
            expr = f"({i} == {k} ? {self.comp(vec, k)} : {expr})"
        return expr

    @emits(vector.ExtractOp)
    def op_vector_extract(self, op: vector.ExtractOp) -> None:
        pos = op.get_mixed_position()
        if len(pos) != 1 or isinstance(op.result.type, VectorType):
            raise self.unsupported(op, "only scalar extracts from 1-D vectors")
        self.define(op.result, self._lane_expr(self.name(op.vector), pos[0], lanes_of(op.vector.type)))

    @emits(vector.InsertOp)
    def op_vector_insert(self, op: vector.InsertOp) -> None:
        pos = op.get_mixed_position()
        if len(pos) != 1 or isinstance(op.source.type, VectorType):
            raise self.unsupported(op, "only scalar inserts into 1-D vectors")
        s, d, t = self.name(op.source), self.name(op.dest), op.result.type
        if isinstance(pos[0], int):
            n = self.define(op.result, d)
            self.line(f"{self.comp(n, pos[0])} = {s};")
        else:
            i = self.name(pos[0])
            self.define(op.result, self.componentwise(t, lambda k: f"{i} == {k} ? {s} : {self.comp(d, k)}"))

    @emits(vector.ShuffleOp)
    def op_vector_shuffle(self, op: vector.ShuffleOp) -> None:
        a, b, n = self.name(op.v1), self.name(op.v2), lanes_of(op.v1.type)
        lanes_of(op.v2.type)
        parts = [self.comp(a, max(m, 0)) if m < n else self.comp(b, m - n) for m in op.mask.get_values()]
        self.define(op.result, self.construct(op.result.type, parts))

    @emits(vector.ReductionOp)
    def op_vector_reduction(self, op: vector.ReductionOp) -> None:
        kind, v = op.kind.data.value, self.name(op.vector)
        lanes = [self.comp(v, k) for k in range(lanes_of(op.vector.type))]
        if op.acc is not None:
            lanes.append(self.name(op.acc))
        if kind in ("minimumf", "maximumf"):  # NaN-propagating: see numeric.py
            expr = reduce(lambda x, y: self.float_min_max(kind[:3], x, y, op.dest.type), lanes)
        elif kind in _MIN_MAX_KINDS:
            expr = reduce(lambda x, y: f"{self.FUNCS[_MIN_MAX_KINDS[kind]]}({x}, {y})", lanes)
        else:
            ops = {"add": "+", "mul": "*", "and": "&", "or": "|", "xor": "^"}
            if kind not in ops:
                raise self.unsupported(op, f"reduction kind {kind}")
            logical = is_bool(op.dest.type) and kind in ("and", "or", "xor")
            sym = self.BOOL_BINOPS[_LOGICAL_KINDS[kind]] if logical else ops[kind]
            expr = f" {sym} ".join(lanes)
        self.define(op.dest, expr)

    # ---- scf ---------------------------------------------------------------------------
    @emits(scf.ForOp)
    def op_scf_for(self, op: scf.ForOp) -> None:
        targets = []
        for init, arg, res in zip(op.iter_args, op.body.block.args[1:], op.results):
            n = self.fresh(arg.name_hint or res.name_hint)
            self.line(f"{self.type_name(arg.type)} {n} = {self.name(init)};")
            self.names[arg] = self.names[res] = n
            targets.append(n)
        iv = op.body.block.args[0]
        i = self.names[iv] = self.fresh(iv.name_hint or "i")
        lb, ub, step = self.name(op.lb), self.name(op.ub), self.name(op.step)
        self.line(f"for ({self.type_name(iv.type)} {i} = {lb}; {i} < {ub}; {i} += {step}) {{")
        self._region(op.body.block, targets)
        self.line("}")

    @emits(scf.IfOp)
    def op_scf_if(self, op: scf.IfOp) -> None:
        targets = []
        for res in op.results:
            n = self.names[res] = self.fresh(res.name_hint)
            self.line(f"{self.type_name(res.type)} {n};")
            targets.append(n)
        self.line(f"if ({self.name(op.cond)}) {{")
        self._region(op.true_region.block, targets)
        if op.false_region.blocks and op.false_region.block.ops:
            self.line("} else {")
            self._region(op.false_region.block, targets)
        self.line("}")

    def _region(self, block, targets: list[str]) -> None:
        self.yield_targets.append(targets)
        self.depth += 1
        self.emit_block(block)
        self.depth -= 1
        self.yield_targets.pop()

    @emits(scf.YieldOp)
    def op_scf_yield(self, op: scf.YieldOp) -> None:
        targets = self.yield_targets[-1]
        pairs = [(n, self.name(v), v.type) for n, v in zip(targets, op.operands) if n != self.name(v)]
        if len(pairs) > 1 and any(v in targets for _, v, _ in pairs):
            moved = []  # a yielded value is another carried variable: copy before overwriting
            for n, v, t in pairs:
                tmp = self.fresh("next")
                self.line(f"{self.type_name(t)} {tmp} = {v};")
                moved.append((n, tmp, t))
            pairs = moved
        for n, v, _ in pairs:
            self.line(f"{n} = {v};")

    # ---- kern --------------------------------------------------------------------------
    @emits(kern.IndexOp)
    def op_kern_index(self, op: Operation) -> None:
        self.define(op.result, f"ccomp_gid{op.dim.value.data}")

    @emits(kern.ExtentOp)
    def op_kern_extent(self, op: Operation) -> None:
        self.define(op.result, f"ccomp_ext{op.dim.value.data}")

    @emits(kern.YieldOp)
    def op_kern_yield(self, op: Operation) -> None:
        if self.reduce is not None:
            self.line(f"ccomp_val = {self.combine('ccomp_val', self.name(op.values[0]), op.values[0].type)};")
