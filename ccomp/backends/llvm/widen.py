"""Emits a kernel body for ``VF`` consecutive columns at once ("x-widening").

LLVM's loop vectoriser refuses loops whose instructions already have vector types,
so a body over ``vector<4xf32>`` pixels would run one 128-bit pixel per iteration
with a dependency chain per pixel. Here the backend vectorises across ``x`` itself:
a value of type ``vector<NxT>`` becomes ``<VF*N x T>`` holding the ``VF`` pixels'
vectors back to back — the order they lie in memory, so reads and writes of
neighbouring columns are single wide loads and stores — and a scalar ``<VF x T>``
(``lanes.py`` describes the layouts, padded and replicated ones included).

Elementwise ops run unchanged on the wide vectors; ``vector`` ops that move lanes
become shuffles; ops with no wide form run once per column on extracted values
("per-column fallback"), so every op a scalar body supports works here too. Bodies
with regions (``scf.for``/``scf.if``) and reduce kernels are not widened.
"""

from __future__ import annotations

from llvmlite import ir
from xdsl.dialects import arith, vector
from xdsl.dialects.builtin import DYNAMIC_INDEX, VectorType
from xdsl.ir import Block, Operation, SSAValue

from ccomp.backends.llvm.builder import fastmath_flags
from ccomp.backends.llvm.emitter import PURE_OPS, KernelEmitter
from ccomp.backends.llvm.lanes import Lanes, W
from ccomp.backends.llvm.ops_vector import _REDUCE_KINDS, combine
from ccomp.backends.llvm.types import UnsupportedType, element_of, is_float, llvm_type
from ccomp.dialects import kern

_LANE_MOVES = {vector.BroadcastOp, vector.ExtractOp, vector.InsertOp, vector.ShuffleOp, vector.ReductionOp}
ELEMENTWISE = set(PURE_OPS) - _LANE_MOVES - {arith.ConstantOp}
# Ops that must not see the don't-care lanes of padded vectors (a zero there traps),
# or that reinterpret lanes.
_DENSE_ONLY = {"arith.divsi", "arith.divui", "arith.remsi", "arith.remui", "arith.floordivsi",
               "arith.ceildivsi", "arith.ceildivui", "arith.bitcast", "vector.bitcast"}
TARGET_BITS = 1024  # 4 AVX2 registers per wide value: enough independent chains per iteration
# to keep the FP pipes busy (VF 8 for vector<4xf32>; measured ~7% over 512 on the tonemap kernel)


def _lanes(v: SSAValue) -> int:
    return v.type.get_shape()[0] if isinstance(v.type, VectorType) else 1


def _lane_bits(t: ir.Type) -> int:
    elem = element_of(t)
    if isinstance(elem, ir.IntType):
        return elem.width
    return {ir.HalfType: 16, ir.FloatType: 32, ir.DoubleType: 64}[type(elem)]


def choose_width(block: Block, reduce: bool) -> int:
    """How many columns to emit per iteration; 1 when widening does not apply (bodies
    with regions, reduce kernels, or all-scalar bodies, which LLVM vectorises itself).
    Wide values aim at ``TARGET_BITS``."""
    if reduce:
        return 1
    widest = 0
    for op in block.walk():
        if op.regions:
            return 1
        for v in (*op.operands, *op.results):
            if isinstance(v.type, VectorType):
                try:
                    widest = max(widest, _lanes(v) * _lane_bits(llvm_type(v.type)))
                except UnsupportedType:
                    return 1  # the op using it will report the type, with its location
    if widest == 0:
        return 1
    vf = max(2, TARGET_BITS // widest)
    return min(16, 1 << (vf.bit_length() - 1))


class WideEmitter:
    """Emits the non-hoisted body ops of one iteration covering columns ``x .. x+VF-1``."""

    def __init__(self, em: KernelEmitter, vf: int):
        self.em = em
        self.b = em.builder
        self.vf = vf
        self.lanes = Lanes(em.builder, vf)
        self.w: dict[SSAValue, W] = {}

    def get(self, v: SSAValue) -> W:
        if v in self.w:
            return self.w[v]
        if v in self.em.buffers:  # a buffer binding: the same for every column
            return W("uniform", self.em.buffers[v][0])
        return W("uniform", self.em.values[v])

    def stride(self, v: SSAValue) -> int:
        """The stride ``v`` has (a varying value's own, else its dense size)."""
        w = self.get(v)
        return w.lanes if w.kind == "varying" else _lanes(v)

    def wide(self, v: SSAValue, lanes: int) -> ir.Value:
        return self.lanes.wide(self.get(v), lanes)

    # -- ops ---------------------------------------------------------------------------

    def emit_block(self, block: Block, x: ir.Value, skip: set[Operation]) -> None:
        """Emit ``block``'s ops (except ``skip``) for the columns starting at ``x``."""
        self.w = {}
        for op in block.ops:
            if isinstance(op, kern.YieldOp):
                return
            if op not in skip:
                self.emit_op(op, x)

    def emit_op(self, op: Operation, x: ir.Value) -> None:
        em = self.em
        if op in em.substitute:
            self.w[op.results[0]] = self.get(em.substitute[op])
            return
        kinds = [self.get(o).kind for o in op.operands]
        if isinstance(op, kern.IndexOp):
            self.w[op.results[0]] = W("affine", x)
        elif kinds in (["affine", "uniform"], ["uniform", "affine"]) and (
                op.name == "arith.addi" or (op.name == "arith.subi" and kinds[0] == "affine")):
            a, c = op.operands if kinds[0] == "affine" else op.operands[::-1]
            base, off = self.get(a).value, self.get(c).value
            value = self.b.add(base, off) if op.name == "arith.addi" else self.b.sub(base, off)
            self.w[op.results[0]] = W("affine", value)
        elif op.name == "arith.index_cast" and kinds == ["affine"]:
            # exact in the interior, which excludes columns where a narrow value would wrap
            cast = PURE_OPS[type(op)](em, op, [self.get(op.operands[0]).value], [llvm_type(op.results[0].type)])
            self.w[op.results[0]] = W("affine", cast)
        elif op.name in ("memref.load", "memref.store") and self._contiguous(op):
            self._access(op)
        elif (type(op) in PURE_OPS or op.name == "memref.load") and all(k == "uniform" for k in kinds):
            # Same for every column: the scalar form, once. (A load too: no column of
            # the launch may write what another reads.)
            em.emit_op(op)
        elif type(op) in ELEMENTWISE:
            self._elementwise(op)
        elif not (type(op) in _LANE_MOVES and self._lane_move(op)):
            self._per_column(op)

    def _elementwise(self, op: Operation) -> None:
        res = op.results[0]
        ws = [self.get(o) for o in op.operands]
        # Lanes that mean something per column. Comparisons follow their operands: xDSL
        # 0.74 types ``arith.cmpf`` of two vectors as ``i1``, though it is lane-wise.
        n = max([_lanes(res)] + [w.n for w in ws if w.kind == "varying"])
        if op.name in ("arith.cmpf", "arith.cmpi"):
            n = max(n, _lanes(op.operands[0]))
        if n == 1:  # a per-column scalar: stay replicated if an operand is
            strides = {w.lanes for w in ws if w.kind == "varying"}
        else:  # a vector: keep the operands' padding
            strides = {w.lanes for w in ws if w.kind == "varying" and w.n == n}
        lanes = strides.pop() if len(strides) == 1 and op.name not in _DENSE_ONLY else n
        if op.name in ("arith.bitcast", "vector.bitcast") and isinstance(res.type, VectorType):
            args = [self.wide(o, _lanes(o)) for o in op.operands]  # lane counts may differ
            lanes = n = _lanes(res)
        else:  # a select's scalar condition spreads over the lanes of its column
            args = [self.lanes.wide(w, lanes) for w in ws]
        wide_t = ir.VectorType(element_of(llvm_type(res.type)), self.vf * lanes)
        self.w[res] = W("varying", PURE_OPS[type(op)](self.em, op, args, [wide_t]), lanes, n)

    def _contiguous(self, op: Operation) -> bool:
        indices = op.operands[1:] if op.name == "memref.load" else op.operands[2:]
        kinds = [self.get(i).kind for i in indices]
        return bool(kinds) and kinds[-1] == "affine" and all(k == "uniform" for k in kinds[:-1])

    def _access(self, op: Operation) -> None:
        em = self.em
        if op.name == "memref.load":
            ref, indices, t = op.operands[0], op.operands[1:], llvm_type(op.results[0].type)
        else:
            ref, indices, t = op.operands[1], op.operands[2:], llvm_type(op.operands[0].type)
        n = t.count if isinstance(t, ir.VectorType) else 1
        addr = em.address(op, ref, [self.get(i).value for i in indices], t)
        if op.name == "memref.load":
            wide_t = ir.VectorType(element_of(t), self.vf * n)
            self.w[op.results[0]] = W("varying", em.load(addr, wide_t), n, n)
        else:
            em.store(self.wide(op.operands[0], n), addr)  # memory is dense

    def _lane_move(self, op: Operation) -> bool:
        """Vector ops that only move lanes, as shuffles of the wide vectors; False when
        this form does not apply (dynamic positions) and the op must run per column."""
        vf, res, shuffle = self.vf, op.results[0], self.lanes.shuffle
        if op.name == "vector.broadcast":
            src, n = self.get(op.operands[0]), _lanes(res)
            if _lanes(op.operands[0]) not in (1, n):
                return False
            if src.kind == "varying" and src.n == 1 and src.lanes >= n:  # replicated: free
                self.w[res] = W("varying", src.value, src.lanes, n)
            else:
                self.w[res] = W("varying", self.lanes.wide(src, n), n, n)
            return True
        if op.name in ("vector.extract", "vector.insert"):
            pos = op.properties["static_position"].get_values()  # type: ignore[attr-defined]
            if len(pos) != 1 or pos[0] == DYNAMIC_INDEX:
                return False
            k = pos[0]
            if op.name == "vector.extract":  # replicated: lane k fills its column's lanes
                s = self.stride(op.operands[0])
                v = shuffle(self.wide(op.operands[0], s), [p * s + k for p in range(vf) for _ in range(s)])
                self.w[res] = W("varying", v, s, 1)
                return True
            s, n = self.stride(op.operands[1]), _lanes(op.operands[1])
            dest, src = self.wide(op.operands[1], s), self.wide(op.operands[0], s)
            mask = [vf * s + p * s + j if j == k else p * s + j for p in range(vf) for j in range(s)]
            self.w[res] = W("varying", shuffle(dest, mask, src), s, n)
            return True
        if op.name == "vector.shuffle":
            return self._shuffle(op)
        return self._reduction(op)

    def _shuffle(self, op: Operation) -> bool:
        a, c, res = op.operands[0], op.operands[1], op.results[0]
        n1, n2, m = _lanes(a), _lanes(c), _lanes(res)
        mask = [max(i, 0) for i in op.properties["mask"].get_values()]  # type: ignore[attr-defined]
        s = self.stride(a)
        if mask == list(range(m)) and m <= n1 and self.get(a).kind == "varying":
            # a prefix (``.rgb`` of a vector<4>): the same lanes, now padded
            self.w[res] = W("varying", self.get(a).value, s, m)
            return True
        if n1 != n2:
            return False
        if self.stride(c) != s:
            s = n1
        lanes = [p * s + i if i < n1 else self.vf * s + p * s + (i - n1) for p in range(self.vf) for i in mask]
        self.w[res] = W("varying", self.lanes.shuffle(self.wide(a, s), lanes, self.wide(c, s)), m, m)
        return True

    def _reduction(self, op: Operation) -> bool:
        """Per-column reduction into the replicated layout: lane ``k`` of every column is
        spread over its column by one in-register shuffle, and the lanes are folded in
        order, as LLVM's ordered reduction does, so results match bit for bit."""
        kind = op.properties["kind"].data.value  # type: ignore[attr-defined]
        vec = op.operands[0]
        n, s = _lanes(vec), self.stride(vec)
        v = self.wide(vec, s)
        base = _REDUCE_KINDS[kind][1 if is_float(v.type) else 0]
        if base is None:
            return False
        flags = fastmath_flags(op)
        lanes = [self.lanes.shuffle(v, [p * s + k for p in range(self.vf) for _ in range(s)]) for k in range(n)]
        acc = self.wide(op.operands[1], s) if len(op.operands) > 1 else None
        ordered = base in ("fadd", "fmul")
        total = acc if (acc is not None and ordered) else None
        for lane in lanes:
            total = lane if total is None else combine(self.em, base, total, lane, flags)
        if acc is not None and not ordered:
            total = combine(self.em, base, total, acc, flags)
        self.w[op.results[0]] = W("varying", total, s, 1)
        return True

    def _per_column(self, op: Operation) -> None:
        em = self.em
        outs: list[list[ir.Value]] = [[] for _ in op.results]
        for p in range(self.vf):
            for o in op.operands:
                if o not in em.buffers:
                    em.values[o] = self.lanes.column(self.get(o), p)
            em.emit_op(op)
            for k, r in enumerate(op.results):
                outs[k].append(em.values[r])
        for r, vals in zip(op.results, outs, strict=True):
            self.w[r] = self.lanes.gather(vals)
