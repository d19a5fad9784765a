"""Emits a kernel body for ``VF`` consecutive columns at once ("x-widening").

LLVM's loop vectoriser refuses loops whose instructions already have vector types,
so a body over ``vector<4xf32>`` pixels would run one 128-bit pixel per iteration
with a dependency chain per pixel. Here the backend vectorises across ``x`` itself:
a value of type ``vector<NxT>`` becomes ``<VF*N x T>`` holding the ``VF`` pixels'
vectors back to back — the order they lie in memory, so reads and writes of
neighbouring columns are single wide loads and stores — and a scalar becomes
``<VF x T>``.

Each body value is one of:

* uniform: the same for every column (row-invariant values, bindings);
* affine: an integer equal to ``base + p`` in column ``p`` (``kern.index 0``,
  ``x + c`` and casts of them), which keeps addresses contiguous;
* varying: a wide vector as above. A per-column *scalar* may also be held
  replicated, ``R`` copies per column (``<VF*R x T>``): reductions and lane
  extracts produce it with in-register shuffles, and broadcasting it back to a
  ``vector<R>`` — the usual fate of a luminance or a mask in shading code — is free.

Elementwise ops run unchanged on the wide vectors; ``vector`` ops that move lanes
become shuffles; ops with no wide form run once per column on extracted values
("per-column fallback"), so every op a scalar body supports works here too. Bodies
with regions (``scf.for``/``scf.if``) are not widened.
"""

from __future__ import annotations

from dataclasses import dataclass

from llvmlite import ir
from xdsl.dialects.builtin import DYNAMIC_INDEX, VectorType
from xdsl.ir import Block, Operation, SSAValue

from ccomp.backends.llvm.builder import fastmath_flags
from ccomp.backends.llvm.emitter import PURE_OPS, KernelEmitter
from ccomp.backends.llvm.ops_vector import _REDUCE_KINDS, combine
from ccomp.backends.llvm.types import I32, UnsupportedType, element_of, is_float, llvm_type

_LANE_MOVES = {"vector.broadcast", "vector.extract", "vector.insert", "vector.shuffle", "vector.reduction"}
ELEMENTWISE = set(PURE_OPS) - _LANE_MOVES - {"arith.constant"}
TARGET_BITS = 1024  # 4 AVX2 registers per wide value: enough independent chains per iteration
# to keep the FP pipes busy (VF 8 for vector<4xf32>; measured ~7% over 512 on the tonemap kernel)


@dataclass(frozen=True)
class W:
    """A body value over the ``VF`` columns: ``kind`` is uniform, affine or varying."""

    kind: str
    value: ir.Value
    lanes: int = 1  # per-column lanes of a varying value


def _lanes(v: SSAValue) -> int:
    return v.type.get_shape()[0] if isinstance(v.type, VectorType) else 1


def _result_lanes(op: Operation) -> int:
    """Per-column lanes of ``op``'s result. Comparisons follow their operands: xDSL
    0.74 types ``arith.cmpf`` of two vectors as ``i1``, though it is lane-wise."""
    if op.name in ("arith.cmpf", "arith.cmpi"):
        return _lanes(op.operands[0])
    return _lanes(op.results[0])


def _lane_bits(t: ir.Type) -> int:
    elem = element_of(t)
    if isinstance(elem, ir.IntType):
        return elem.width
    return {ir.HalfType: 16, ir.FloatType: 32, ir.DoubleType: 64}[type(elem)]


def choose_width(block: Block, reduce: bool) -> int:
    """How many columns to emit per iteration; 1 when widening does not apply (bodies
    with regions, reduce kernels, or all-scalar bodies, which LLVM vectorises itself).
    Wide values aim at ``TARGET_BITS``: enough independent lanes per instruction to
    hide latency without exhausting registers."""
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
        self.w: dict[SSAValue, W] = {}

    # -- value views -----------------------------------------------------------------

    def get(self, v: SSAValue) -> W:
        if v in self.w:
            return self.w[v]
        if v in self.em.buffers:  # a buffer binding: the same for every column
            return W("uniform", self.em.buffers[v][0])
        return W("uniform", self.em.values[v])

    def _mask(self, lanes: list[int]) -> ir.Constant:
        return ir.Constant(ir.VectorType(I32, len(lanes)), lanes)

    def _shuffle(self, v: ir.Value, lanes: list[int], other: ir.Value | None = None) -> ir.Value:
        return self.b.shuffle_vector(v, other if other is not None else ir.Constant(v.type, ir.Undefined),
                                     self._mask(lanes))

    def varying(self, w: W, lanes: int) -> ir.Value:
        """``w`` as a wide vector of ``lanes`` per column (scalars spread over lanes)."""
        vf, b = self.vf, self.b
        if w.kind == "varying":
            v, have = w.value, w.lanes
        elif w.kind == "affine":
            t = ir.VectorType(w.value.type, vf)
            base = self._shuffle(b.insert_element(ir.Constant(t, ir.Undefined), w.value, ir.Constant(I32, 0)),
                                 [0] * vf)
            v, have = b.add(base, ir.Constant(t, list(range(vf)))), 1
        elif isinstance(w.value.type, ir.VectorType):
            have = w.value.type.count
            v = self._shuffle(w.value, [k for _ in range(vf) for k in range(have)])
        else:
            one = b.insert_element(ir.Constant(ir.VectorType(w.value.type, 1), ir.Undefined), w.value,
                                   ir.Constant(I32, 0))
            v, have = self._shuffle(one, [0] * vf), 1
        if have == lanes:
            return v
        # a per-column scalar changes layout: compact (one lane per column) or replicated
        return self._shuffle(v, [p * have for p in range(vf) for _ in range(lanes)])

    def pixel(self, v: SSAValue, p: int) -> ir.Value:
        """Column ``p``'s own value of ``v``, as the scalar emitter would have it."""
        w = self.get(v)
        if w.kind == "uniform":
            return w.value
        if w.kind == "affine":
            return self.b.add(w.value, ir.Constant(w.value.type, p))
        if w.lanes == 1 or not isinstance(v.type, VectorType):  # compact or replicated scalar
            return self.b.extract_element(w.value, ir.Constant(I32, p * w.lanes))
        return self._shuffle(w.value, [p * w.lanes + k for k in range(w.lanes)])

    def gather(self, per_pixel: list[ir.Value]) -> W:
        """A varying value from one value per column."""
        b, first = self.b, per_pixel[0].type
        lanes = first.count if isinstance(first, ir.VectorType) else 1
        out = ir.Constant(ir.VectorType(element_of(first), self.vf * lanes), ir.Undefined)
        for p, v in enumerate(per_pixel):
            for k in range(lanes):
                lane = b.extract_element(v, ir.Constant(I32, k)) if lanes > 1 else v
                out = b.insert_element(out, lane, ir.Constant(I32, p * lanes + k))
        return W("varying", out, lanes)

    # -- ops ---------------------------------------------------------------------------

    def emit_block(self, block: Block, x: ir.Value, skip: set[Operation]) -> None:
        """Emit ``block``'s ops (except ``skip``) for the columns starting at ``x``."""
        self.w = {}
        for op in block.ops:
            if op.name == "kern.yield":
                return
            if op not in skip:
                self.emit_op(op, x)

    def emit_op(self, op: Operation, x: ir.Value) -> None:
        em = self.em
        if op in em.substitute:
            self.w[op.results[0]] = self.get(em.substitute[op])
            return
        kinds = [self.get(o).kind for o in op.operands]
        if op.name == "kern.index":
            self.w[op.results[0]] = W("affine", x)
        elif kinds in (["affine", "uniform"], ["uniform", "affine"]) and (
                op.name == "arith.addi" or (op.name == "arith.subi" and kinds[0] == "affine")):
            self._affine(op, kinds)
        elif op.name == "arith.index_cast" and kinds == ["affine"]:
            # exact in the interior, which excludes columns where the narrow value would wrap
            self.w[op.results[0]] = W("affine", PURE_OPS[op.name](em, op, [self.get(op.operands[0]).value],
                                                                  [llvm_type(op.results[0].type)]))
        elif op.name in ("memref.load", "memref.store") and self._contiguous(op):
            self._access(op)
        elif (op.name in PURE_OPS or op.name == "memref.load") and all(k == "uniform" for k in kinds):
            # Same for every column: the scalar form, once. (A load too: no column of
            # the launch may write what another reads.)
            em.emit_op(op)
        elif op.name in ELEMENTWISE:
            self._elementwise(op)
        elif op.name in _LANE_MOVES and self._lane_move(op):
            pass
        else:
            self._per_column(op)

    def _affine(self, op: Operation, kinds: list[str]) -> None:
        a, c = op.operands if kinds[0] == "affine" else op.operands[::-1]
        base, off = self.get(a).value, self.get(c).value
        value = self.b.add(base, off) if op.name == "arith.addi" else self.b.sub(base, off)
        self.w[op.results[0]] = W("affine", value)

    def _elementwise(self, op: Operation) -> None:
        res = op.results[0]
        lanes = _result_lanes(op)
        if lanes == 1:  # a per-column scalar: stay replicated if an operand is
            reps = {w.lanes for w in map(self.get, op.operands) if w.kind == "varying" and w.lanes > 1}
            lanes = reps.pop() if len(reps) == 1 else 1
        if op.name in ("arith.bitcast", "vector.bitcast") and isinstance(res.type, VectorType):
            args = [self.varying(self.get(o), _lanes(o)) for o in op.operands]  # lane counts may differ
        else:  # a select's scalar condition spreads over the lanes of its column
            args = [self.varying(self.get(o), lanes) for o in op.operands]
        t = llvm_type(res.type)
        wide_t = ir.VectorType(element_of(t), self.vf * lanes)
        self.w[res] = W("varying", PURE_OPS[op.name](self.em, op, args, [wide_t]), lanes)

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
        lanes = t.count if isinstance(t, ir.VectorType) else 1
        wide_t = ir.VectorType(element_of(t), self.vf * lanes)
        addr = em.address(op, ref, [self.get(i).value for i in indices], t)
        if op.name == "memref.load":
            self.w[op.results[0]] = W("varying", em.load(addr, wide_t), lanes)
        else:
            em.store(self.varying(self.get(op.operands[0]), lanes), addr)

    def _lane_move(self, op: Operation) -> bool:
        """Vector ops that only move lanes, as shuffles of the wide vectors; False when
        this form does not apply (dynamic positions) and the op must run per column."""
        vf, res = self.vf, op.results[0]
        if op.name == "vector.broadcast":
            if _lanes(op.operands[0]) not in (1, _lanes(res)):
                return False
            self.w[res] = W("varying", self.varying(self.get(op.operands[0]), _lanes(res)), _lanes(res))
            return True
        if op.name in ("vector.extract", "vector.insert"):
            pos = op.properties["static_position"].get_values()  # type: ignore[attr-defined]
            if len(pos) != 1 or pos[0] == DYNAMIC_INDEX:
                return False
            k = pos[0]
            if op.name == "vector.extract":  # replicated: lane k fills its column's lanes
                n = _lanes(op.operands[0])
                self.w[res] = W("varying", self._shuffle(self.varying(self.get(op.operands[0]), n),
                                                         [p * n + k for p in range(vf) for _ in range(n)]), n)
                return True
            n = _lanes(op.operands[1])
            dest, src = self.varying(self.get(op.operands[1]), n), self.varying(self.get(op.operands[0]), n)
            mask = [vf * n + p * n + j if j == k else p * n + j for p in range(vf) for j in range(n)]
            self.w[res] = W("varying", self._shuffle(dest, mask, src), n)
            return True
        if op.name == "vector.shuffle":
            n1, n2, m = _lanes(op.operands[0]), _lanes(op.operands[1]), _lanes(res)
            if n1 != n2:
                return False
            mask = [max(i, 0) for i in op.properties["mask"].get_values()]  # type: ignore[attr-defined]
            a, c = self.varying(self.get(op.operands[0]), n1), self.varying(self.get(op.operands[1]), n2)
            lanes = [p * n1 + i if i < n1 else vf * n1 + p * n2 + (i - n1) for p in range(vf) for i in mask]
            self.w[res] = W("varying", self._shuffle(a, lanes, c), m)
            return True
        return self._reduction(op)

    def _reduction(self, op: Operation) -> bool:
        """Per-column reduction into the replicated layout: lane ``k`` of every column is
        spread over its column by one in-register shuffle, and the lanes are folded in
        order, as LLVM's ordered reduction does, so results match bit for bit."""
        kind = op.properties["kind"].data.value  # type: ignore[attr-defined]
        vec = op.operands[0]
        n = _lanes(vec)
        v = self.varying(self.get(vec), n)
        base = _REDUCE_KINDS[kind][1 if is_float(v.type) else 0]
        if base is None:
            return False
        flags = fastmath_flags(op)
        lanes = [self._shuffle(v, [p * n + k for p in range(self.vf) for _ in range(n)]) for k in range(n)]
        acc = self.varying(self.get(op.operands[1]), n) if len(op.operands) > 1 else None
        ordered = base in ("fadd", "fmul")
        total = acc if (acc is not None and ordered) else None
        for lane in lanes:
            total = lane if total is None else combine(self.em, base, total, lane, flags)
        if acc is not None and not ordered:
            total = combine(self.em, base, total, acc, flags)
        self.w[op.results[0]] = W("varying", total, n)
        return True

    def _per_column(self, op: Operation) -> None:
        em = self.em
        outs: list[list[ir.Value]] = [[] for _ in op.results]
        for p in range(self.vf):
            for o in op.operands:
                if o not in em.buffers:
                    em.values[o] = self.pixel(o, p)
            em.emit_op(op)
            for k, r in enumerate(op.results):
                outs[k].append(em.values[r])
        for r, vals in zip(op.results, outs, strict=True):
            self.w[r] = self.gather(vals)
