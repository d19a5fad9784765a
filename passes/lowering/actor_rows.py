"""One message of a batch: the body of an ``actor.handler`` as kernel code for row ``i``.

Inside a handler every tensor is a rank-1 vector of one message, so tensors are never
materialised: each is a *view* — a length and a function giving element ``k`` — and
an operation on tensors composes views (the ``graph`` dialect's fields work the same
way). A field ``tensor<?xf32>`` is the slice ``values[offsets[i]:offsets[i + 1]]``, a
``tensor<Nxf32>`` row ``i`` of an ``(n, N)`` column; ``sparse.elementwise`` is its body
applied to its inputs' elements (cloned where an element is read); ``sparse.reduce``
is a loop over a view, ``sparse.dim`` its length, ``sparse.fill`` a constant view.
Nothing is allocated per message, so a batch is one launch.

Failures: where the inputs of an elementwise operation have different lengths (or a
value of a ``tensor<Nxf32>`` field has not N elements), the row *fails*: its status
becomes the number of the first failed check (1-based, the host function's
``actor.checks`` lists their messages and locations) and its state update is
discarded. Loops run over the shortest input, so a failing row never reads outside
its own slices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xdsl.dialects import arith
from xdsl.dialects.builtin import FloatAttr, LocationAttr, TensorType, f32, f64, i1
from xdsl.ir import Operation, SSAValue

from ccomp.diagnostics import PassError
from ccomp.dialects import actor, sparse
from ccomp.passes.lowering.builder import IRBuilder

Elem = Callable[[IRBuilder, SSAValue], SSAValue]
Body = Callable[[IRBuilder, SSAValue, list[SSAValue]], Sequence[SSAValue]]


@dataclass
class View:
    """A rank-1 tensor of one message: ``length`` (index) and element ``k`` (f32).
    ``source`` says where a variable length comes from: a field's name, a static
    length (int), or None (computed, e.g. ``fill(n, v)``)."""

    length: SSAValue
    elem: Elem
    source: str | int | None


@dataclass
class Column:
    """The buffers of one field (input or output) of a batch."""

    kind: str  # "scalar", "fixed" (n x N) or "var" (values + offsets)
    values: SSAValue
    offsets: SSAValue | None = None  # var inputs only
    size: int = 0  # fixed: N
    length_of: str | int | None = None
    boolean: bool = False  # a bool column, stored as i32 0/1  # var outputs: the field (or fixed size) giving each row's length


@dataclass
class Check:
    message: str
    location: LocationAttr


class RowLowering:
    """Emits the code of one message (row ``row``) of a handler at ``b``."""

    def __init__(self, b: IRBuilder, handler: actor.HandlerOp, fields: dict[str, Column],
                 field_names: list[str], outputs: dict[tuple[str, str], list[tuple[str, Column]]],
                 checks: list[Check]):
        self.b, self.handler, self.fields, self.field_names = b, handler, fields, field_names
        self.outputs, self.checks = outputs, checks
        self.map: dict[SSAValue, SSAValue | View] = {}
        self.status: SSAValue | None = None
        self.row: SSAValue | None = None
        # loop iterations one message costs: per field, loops as long as that field
        # (key ""): fixed iterations; None when a length is only known at run time
        self.cost: dict[str, int] | None = {"": 0}

    # ----- entry ------------------------------------------------------------------

    def emit(self, row: SSAValue, states: list[SSAValue]) -> tuple[SSAValue, list[SSAValue]]:
        """The row's code; returns its status (i32, 0: success) and next states."""
        b, self.row = self.b, row
        self.status = b.i32(0)
        block = self.handler.body.block
        n = len(self.field_names)
        for name, arg in zip(self.field_names, block.args[:n]):
            self.map[arg] = self.field(name, arg)
        for arg, s in zip(block.args[n:], states):
            self.map[arg] = s
        for op in block.ops:
            if isinstance(op, actor.ReturnOp):
                return self.status, [self.value(v) for v in op.values]
            self.lower(op)
        raise AssertionError("actor.handler without actor.return")  # pragma: no cover - verified

    def field(self, name: str, arg: SSAValue) -> SSAValue | View:
        b, col, row = self.b, self.fields[name], self.row
        if col.kind == "scalar":
            v = b.load(col.values, row)
            return b.cmpi("ne", v, b.i32(0)) if col.boolean else v
        if col.kind == "fixed":
            return View(b.index(col.size), lambda b, k: b.load(col.values, row, k), col.size)
        start = b.load_index(col.offsets, row)
        end = b.load_index(col.offsets, b.addi(row, b.index(1)))
        return View(b.subi(end, start), lambda b, k: b.load(col.values, b.addi(start, k)), name)

    def value(self, v: SSAValue) -> SSAValue:
        got = self.map[v]
        assert not isinstance(got, View)
        return got

    def view(self, v: SSAValue) -> View:
        got = self.map[v]
        assert isinstance(got, View)
        return got

    # ----- ops ----------------------------------------------------------------------

    def lower(self, op: Operation) -> None:
        b = self.b.located(op.location)
        if isinstance(op, sparse.DimOp):
            self.map[op.result] = b.to_i32(self.view(op.source).length)
        elif isinstance(op, sparse.ReduceOp):
            self.map[op.result] = self.reduce(b, op.kind.data, self.view(op.source))
        elif isinstance(op, sparse.ElementwiseOp):
            self.map[op.result] = self.elementwise(b, op)
        elif isinstance(op, sparse.ConvertOp):
            self.map[op.result] = self.view(op.source)
        elif isinstance(op, sparse.FillOp):
            if len(op.sizes) != 1:
                raise PassError(op, "a handler's tensors are vectors: fill(n, v)")
            value = self.value(op.value)
            self.map[op.result] = View(b.to_index(self.value(op.sizes[0])), lambda b, k: value, None)
        elif isinstance(op, actor.ElementOp):
            self.map[op.result] = self.element(b, self.view(op.source), self.value(op.index))
        elif isinstance(op, actor.ReplyOp):
            self.store(b, op, ("reply", ""), op.values)
        elif isinstance(op, actor.SendOp):
            self.store(b, op, ("send", op.target.root_reference.data), op.values)
        elif op.dialect_name() in ("arith", "math") and not op.regions:
            clone = op.clone(value_mapper={v: self.value(v) for v in op.operands})
            b.insert(clone)
            for old, new in zip(op.results, clone.results):
                self.map[old] = new
        else:
            raise PassError(op, f"a handler cannot run '{op.name}'", internal=True)

    def reduce(self, b: IRBuilder, kind: str, v: View) -> SSAValue:
        """A loop over the view. Sums accumulate in f64 and round once (as the llvm
        reduce kernels of ``fn`` programs do), so a long message sums to what the
        reference's float64 gives rather than drifting by its length times f32's
        epsilon; min and max are exact in f32."""
        if kind == "add":
            def add(b: IRBuilder, k: SSAValue, acc: list[SSAValue]) -> list[SSAValue]:
                return [b.add(arith.AddfOp(acc[0], b.add(arith.ExtFOp(v.elem(b, k), f64))))]
            (total,) = self.loop_over(b, v, [b.add(arith.ConstantOp(FloatAttr(0.0, f64)))], add)
            return b.add(arith.TruncFOp(total, f32))
        start = {"min": float("inf"), "max": float("-inf")}[kind]
        combine = {"min": arith.MinimumfOp, "max": arith.MaximumfOp}[kind]

        def step(b: IRBuilder, k: SSAValue, acc: list[SSAValue]) -> list[SSAValue]:
            return [b.add(combine(acc[0], v.elem(b, k)))]
        (total,) = self.loop_over(b, v, [b.add(arith.ConstantOp(FloatAttr(start, f32)))], step)
        return total

    def element(self, b: IRBuilder, v: View, index: SSAValue) -> SSAValue:
        """Element ``index`` of ``v``; out of range the row fails and the value is 0
        (the read is skipped: an empty slice has no element to read)."""
        k = b.to_index(index)
        inside = b.add(arith.AndIOp(b.cmpi("sge", k, b.index(0)), b.cmpi("slt", k, v.length)))
        self.check(b, inside, "index out of range")
        zero = b.add(arith.ConstantOp(FloatAttr(0.0, f32)))
        return b.if_(inside, lambda t: [v.elem(t, k)], lambda o: [zero], [f32])[0]

    def loop_over(self, b: IRBuilder, v: View, inits: Sequence[SSAValue], body: Body) -> list[SSAValue]:
        """``for k in range(len(v))``, counted in :attr:`cost` (a loop over a view never
        runs longer than its source: a computed length is the shortest input's)."""
        if self.cost is not None:
            if v.source is None:
                self.cost = None
            else:
                key, n = (v.source, 1) if isinstance(v.source, str) else ("", v.source)
                self.cost[key] = self.cost.get(key, 0) + n
        return b.loop(b.index(0), v.length, list(inits), body)

    def check(self, b: IRBuilder, cond: SSAValue, message: str) -> None:
        """Row fails with check ``message`` (numbered from 1) where ``cond`` is false."""
        first = not self.checks  # no check before: the status is still 0
        self.checks.append(Check(message, b.location))
        bad = b.add(arith.XOrIOp(cond, b.add(arith.ConstantOp.from_int_and_width(1, 1))))
        if not first:
            bad = b.add(arith.AndIOp(b.cmpi("eq", self.status, b.i32(0)), bad))
        self.status = b.select(bad, b.i32(len(self.checks)), self.status)

    def elementwise(self, b: IRBuilder, op: sparse.ElementwiseOp) -> View:
        tensors = [(i, self.view(v)) for i, v in enumerate(op.inputs) if isinstance(v.type, TensorType)]
        (want,) = op.result.type.get_shape()
        ones = {i for i, t in enumerate(op.inputs) if isinstance(t.type, TensorType) and t.type.get_shape() == (1,)}
        sized = [v for i, v in tensors if i not in ones] or [v for _, v in tensors]
        if want >= 0:
            length, source = b.index(want), want
            for v in sized:
                if v.source != want:
                    self.check(b, b.cmpi("eq", v.length, length), f"this operation needs tensors of {want} elements")
        else:
            length, source = sized[0].length, sized[0].source
            for v in sized[1:]:
                if v.source != source or source is None:
                    self.check(b, b.cmpi("eq", v.length, sized[0].length),
                               "the tensors of this operation have different lengths")
                    length = b.mini(length, v.length)
        scalars = {i: self.value(v) for i, v in enumerate(op.inputs) if not isinstance(v.type, TensorType)}
        views = dict(tensors)
        body = op.body.block

        def elem(b: IRBuilder, k: SSAValue) -> SSAValue:
            mapping: dict[SSAValue, SSAValue] = {}
            for i, arg in enumerate(body.args):
                if i in scalars:
                    mapping[arg] = scalars[i]
                else:
                    mapping[arg] = views[i].elem(b, b.index(0) if i in ones else k)
            for inner in body.ops:
                if isinstance(inner, sparse.YieldOp):
                    return mapping[inner.values[0]]
                clone = inner.clone(value_mapper=mapping)
                b.insert(clone)
                mapping.update(zip(inner.results, clone.results))
            raise AssertionError("sparse.elementwise without sparse.yield")  # pragma: no cover
        return View(length, elem, source)

    def store(self, b: IRBuilder, op: Operation, key: tuple[str, str], values) -> None:
        """Write one outgoing message's fields at this row."""
        row = self.row
        for (name, col), v in zip(self.outputs[key], values):
            if col.kind == "scalar":
                value = self.value(v)
                b.store(b.add(arith.ExtUIOp(value, col.values.type.element_type)) if value.type == i1 else value,
                        col.values, row)
                continue
            view = self.view(v)
            if col.kind == "fixed":
                def put(b: IRBuilder, k: SSAValue, _: list[SSAValue], col=col, view=view) -> list[SSAValue]:
                    b.store(view.elem(b, k), col.values, row, k)
                    return []
                self.loop_over(b, view, [], put)
                continue
            if isinstance(view.source, str):
                base = b.load_index(self.fields[view.source].offsets, row)
            elif isinstance(view.source, int):
                base = b.muli(row, b.index(view.source))
            else:
                raise PassError(op, f"field '{name}' has a variable length, which must come from a field "
                                    f"of the message handled (or be a fixed size)")
            col.length_of = view.source  # the host function sizes the values buffer by it

            def put_var(b: IRBuilder, k: SSAValue, _: list[SSAValue], col=col, view=view, base=base) -> list[SSAValue]:
                b.store(view.elem(b, k), col.values, b.addi(base, k))
                return []
            self.loop_over(b, view, [], put_var)

