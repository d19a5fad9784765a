"""A handler as one ``kern.kernel`` over a batch plus the host function that runs it.

The batch is struct-of-arrays (``ccomp.runtime.actors.spec``): per field a column
``memref<?xT>`` (scalars), ``memref<?x?xf32>`` (``tensor<Nxf32>``, ``n x N``) or, for
``tensor<?xf32>``, the values ``memref<?xf32>`` plus ``n + 1`` offsets
``memref<?xi32>``. The host function's ports, in order:

- inputs: each field of the message (``data``, ``data.offsets``), then each state
  variable as a one-element buffer (``state.seen``);
- outputs: ``status`` (``i32`` per row: 0, or the number of the failed check), the
  next value of each state the handler writes (``state.seen``), then the fields of the
  reply (``reply.total``) and of each message sent (``send.<actor>.<field>``). A
  variable-length output shares the offsets of the input field its length comes from
  (``actor.lengths`` on the host function names it; an integer is a fixed length),
  so no scan is needed and a batch stays one launch.

**Order and parallelism.** A handler that writes no state computes each message
independently: the kernel runs over ``n`` points, one per message, in parallel. A
handler that writes state runs as one point that walks the messages in order, carrying
the state through an ``scf.for``: the state after message ``i`` is the input of
message ``i + 1``, which is what the language promises. A parallel scan would need the
update to be associative and its operator known; a state update is any expression of
state and message (``seen = seen * 0.9 + x``, with reads of the new value by the
reply), so the general rule is sequential. The per-message work of such handlers is a
few operations, and the sequential kernel still costs one launch per batch.
"""

from __future__ import annotations

from xdsl.dialects import arith, func, memref
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX as DYN,
    ArrayAttr,
    DictionaryAttr,
    IntegerAttr,
    MemRefType,
    StringAttr,
    TensorType,
    i1,
    i32,
    i64,
)
from xdsl.ir import Attribute, Block, Region, SSAValue

from ccomp.dialects import actor, kern, ports
from ccomp.passes.lowering.actor_rows import Check, Column, RowLowering
from ccomp.passes.lowering.builder import IRBuilder, KernelBuilder

CHECKS, CHECK_LOCS, LENGTHS = actor.CHECKS, actor.CHECK_LOCATIONS, actor.LENGTHS


def stored(t: Attribute) -> Attribute:
    """How a scalar is stored in a buffer: a bool as an ``i32`` 0/1 (GLSL has no bool
    buffers, and one layout for every target keeps the driver simple)."""
    return i32 if t == i1 else t


def load_scalar(b: IRBuilder, t: Attribute, buf: SSAValue, *index: SSAValue) -> SSAValue:
    v = b.load(buf, *index)
    return b.cmpi("ne", v, b.i32(0)) if t == i1 else v


def store_scalar(b: IRBuilder, v: SSAValue, buf: SSAValue, *index: SSAValue) -> None:
    b.store(b.add(arith.ExtUIOp(v, i32)) if v.type == i1 else v, buf, *index)


def _column_types(t: Attribute) -> tuple[str, list[MemRefType], int]:
    if isinstance(t, TensorType):
        (n,) = t.get_shape()
        if n >= 0:
            return "fixed", [MemRefType(t.element_type, [DYN, DYN])], n
        return "var", [MemRefType(t.element_type, [DYN]), MemRefType(i32, [DYN])], 0
    return "scalar", [MemRefType(stored(t), [DYN])], 0


def written_states(handler: actor.HandlerOp) -> list[int]:
    """Indices of the states the handler's ``actor.return`` changes."""
    block = handler.body.block
    ret = block.last_op
    n_fields = len(block.args) - len(ret.values)
    return [i for i, v in enumerate(ret.values) if v is not block.args[n_fields + i]]


class HandlerLowering:
    """Builds the kernel ``<host>_0`` and the host function ``host`` of one handler."""

    def __init__(self, act: actor.ActorOp, handler: actor.HandlerOp, messages: dict[str, actor.MessageOp],
                 host: str):
        self.actor, self.handler, self.messages, self.host = act, handler, messages, host
        self.message = messages[handler.message.root_reference.data]
        self.written = written_states(handler)
        self.ports: list[tuple[str, MemRefType]] = []  # inputs
        self.outs: list[tuple[str, MemRefType]] = []
        self.checks: list[Check] = []
        self.cost: dict[str, int] | None = {"": 0}  # one message's loop iterations (RowLowering.cost)

    def out_messages(self) -> list[tuple[tuple[str, str], actor.MessageOp]]:
        found = []
        for op in self.handler.body.block.ops:
            if isinstance(op, actor.ReplyOp):
                found.append((("reply", ""), self.messages[op.message.root_reference.data]))
            elif isinstance(op, actor.SendOp):
                found.append((("send", op.target.root_reference.data), self.messages[op.message.root_reference.data]))
        return found

    def lower(self) -> tuple[kern.KernelOp, func.FuncOp]:
        states = self.actor.states
        fields: list[tuple[str, str, int, int]] = []  # name, kind, first port, fixed size
        for name, t in self.message.fields:
            kind, types, size = _column_types(t)
            fields.append((name, kind, len(self.ports), size))
            self.ports += [(name if i == 0 else f"{name}.offsets", m) for i, m in enumerate(types)]
        state_in = len(self.ports)
        self.ports += [(f"state.{s.sym_name.data}", MemRefType(stored(s.state_type), [DYN])) for s in states]
        self.outs.append(("status", MemRefType(i32, [DYN])))
        self.outs += [(f"state.{states[i].sym_name.data}", MemRefType(stored(states[i].state_type), [DYN]))
                      for i in self.written]
        out_fields: list[tuple[tuple[str, str], str, str, int, int]] = []
        for key, msg in self.out_messages():
            prefix = "reply" if key[0] == "reply" else f"send.{key[1]}"
            for name, t in msg.fields:
                kind, types, size = _column_types(t)
                out_fields.append((key, name, kind, len(self.outs), size))
                self.outs.append((f"{prefix}.{name}", types[0]))
        kb = KernelBuilder(f"{self.host}_0", 1, [m for _, m in (*self.ports, *self.outs)], self.handler.location)
        args, n_in = kb.args, len(self.ports)
        types = dict(self.message.fields)
        cols = {name: Column(kind, args[p], args[p + 1] if kind == "var" else None, size, boolean=types[name] == i1)
                for name, kind, p, size in fields}
        outputs: dict[tuple[str, str], list[tuple[str, Column]]] = {}
        for key, name, kind, p, size in out_fields:
            outputs.setdefault(key, []).append((name, Column(kind, args[n_in + p], None, size)))
        status = args[n_in]
        field_names = [f[0] for f in fields]
        zero = kb.index(0)
        initial = [load_scalar(kb, s.state_type, args[state_in + i], zero) for i, s in enumerate(states)]

        def row_code(b: IRBuilder, row: SSAValue, current: list[SSAValue]) -> list[SSAValue]:
            rows = RowLowering(b, self.handler, cols, field_names, outputs, self.checks)
            code, nxt = rows.emit(row, current)
            self.cost = rows.cost
            b.store(code, status, row)
            ok = b.cmpi("eq", code, b.i32(0))
            return [b.select(ok, nxt[i], current[i]) for i in self.written]

        if self.written:  # in order, one point
            carried = [initial[i] for i in self.written]

            def step(b: IRBuilder, row: SSAValue, state: list[SSAValue]) -> list[SSAValue]:
                current = list(initial)
                for i, v in zip(self.written, state):
                    current[i] = v
                return row_code(b, row, current)
            final = kb.loop(zero, kb.dim(status, 0), carried, step)
            for k, v in enumerate(final):
                store_scalar(kb, v, args[n_in + 1 + k], zero)
        else:
            row_code(kb, kb.point(0), initial)
        kernel = kb.finish()
        return kernel, self.host_function(fields, outputs, out_fields)

    def host_function(self, fields, outputs, out_fields) -> func.FuncOp:
        block = Block(arg_types=[m for _, m in self.ports])
        b = IRBuilder.at_end(block, self.handler.location)
        for (name, _), arg in zip(self.ports, block.args):
            arg.name_hint = name.replace(".", "_")
        by_name = {name: (kind, p) for name, kind, p, _ in fields}
        first_kind, first = fields[0][1], block.args[fields[0][2]]
        if first_kind == "var":
            n = b.subi(b.dim(block.args[fields[0][2] + 1], 0), b.index(1))
        else:
            n = b.dim(first, 0)
        one = b.index(1)
        values, lengths = [b.add(kern_alloc(self.outs[0][1], [n]))], {}
        values += [b.add(kern_alloc(t, [one])) for _, t in self.outs[1:1 + len(self.written)]]
        for key, name, kind, p, size in out_fields:
            col = next(c for nm, c in outputs[key] if nm == name)
            t = self.outs[p][1]
            if kind == "scalar":
                values.append(b.add(kern_alloc(t, [n])))
            elif kind == "fixed":
                values.append(b.add(kern_alloc(t, [n, b.index(size)])))
            else:
                src = col.length_of
                if isinstance(src, str):
                    count = b.dim(block.args[by_name[src][1]], 0)
                    lengths[self.outs[p][0]] = StringAttr(src)
                else:
                    count = b.muli(n, b.index(src))
                    lengths[self.outs[p][0]] = IntegerAttr(src, i64)
                values.append(b.add(kern_alloc(t, [count])))
        grid = [n] if not self.written else [one]
        b.add(kern.LaunchOp(f"{self.host}_0", grid, [*block.args, *values]))
        b.add(func.ReturnOp(*values))
        fn = func.FuncOp(self.host, ([m for _, m in self.ports], [v.type for v in values]), Region(block),
                         arg_attrs=ArrayAttr([DictionaryAttr(ports.port_attrs(nm)) for nm, _ in self.ports]))
        ports.set_output_names(fn, [nm for nm, _ in self.outs])
        fn.attributes[CHECKS] = ArrayAttr([StringAttr(c.message) for c in self.checks])
        fn.attributes[CHECK_LOCS] = ArrayAttr([c.location for c in self.checks])
        fn.attributes[LENGTHS] = DictionaryAttr(lengths)
        fn.attributes[actor.OUT_MESSAGES] = ArrayAttr([msg.sym_name for _, msg in self.out_messages()])
        fn.attributes[actor.LOOP_COST] = DictionaryAttr(
            {"?": IntegerAttr(1, i64)} if self.cost is None else {k: IntegerAttr(v, i64) for k, v in self.cost.items()})
        fn.location = self.handler.location
        return fn


def kern_alloc(t: MemRefType, sizes: list[SSAValue]) -> memref.AllocOp:
    return memref.AllocOp(sizes, [], t)
