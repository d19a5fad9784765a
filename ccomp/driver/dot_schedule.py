"""The schedule half of ``--emit dot``: the host function of the ``kern`` stage.

Buffers are nodes (the host function's memref parameters as inputs, each
``memref.alloc`` as a buffer, each host loop's carried buffer as a slot); each
``kern.launch`` is a node with an edge from every buffer its kernel reads and to
every buffer it writes (a kernel writes an argument it stores to or adds to
atomically; which ones is read off the ``kern.kernel`` body). A host loop
(``scf.for``) is a cluster; what it yields back into its slots is drawn as dashed
edges, labelled ``swap`` where the yield only permutes the loop's slots (the
ping-pong of ``loop-pingpong``) and ``next`` otherwise. A loop's results are its
slots after the last iteration, so they share the slot's node.
"""

from __future__ import annotations

from xdsl.dialects import func, memref, scf
from xdsl.dialects.builtin import MemRefType, ModuleOp
from xdsl.ir import Block, Operation, SSAValue

from ccomp.dialects import kern
from ccomp.driver.dot import Dot
from ccomp.driver.dot_graph import type_name

_WRITES = (memref.StoreOp, kern.AtomicAddOp)


def written_args(kernel: kern.KernelOp) -> set[int]:
    """Indices of the kernel's parameters it writes (stores or atomically adds to)."""
    args = kernel.body.block.args
    written = set()
    for op in kernel.walk():
        if isinstance(op, memref.StoreOp) and op.memref in args:
            written.add(args.index(op.memref))
        elif isinstance(op, kern.AtomicAddOp) and op.buffer in args:
            written.add(args.index(op.buffer))
    return written


class ScheduleDrawer:
    """Draws one host function into a :class:`Dot`, keeping buffer value -> node id."""

    def __init__(self, dot: Dot, kernels: dict[str, kern.KernelOp]):
        self.dot, self.kernels = dot, kernels
        self.nodes: dict[SSAValue, str] = {}

    def function(self, fn: func.FuncOp) -> None:
        for i, arg in enumerate(fn.body.block.args):
            attrs = fn.arg_attrs.data[i].data if fn.arg_attrs else {}
            name = attrs["graph.name"].data if "graph.name" in attrs else f"arg{i}"
            if isinstance(arg.type, MemRefType):
                self.nodes[arg] = self.dot.node(self.dot.fresh("in"), f"input {name}\n{type_name(arg.type)}",
                                                shape="invhouse", style="filled", fillcolor="#e8f0fe")
        self.block(fn.body.block)
        names = [a.data for a in fn.attributes["graph.outputs"].data] if "graph.outputs" in fn.attributes else []
        ret = fn.body.block.last_op
        if isinstance(ret, func.ReturnOp):
            for i, value in enumerate(ret.arguments):
                source = self._source(value)
                if source is not None:
                    name = names[i] if i < len(names) else f"out{i}"
                    out = self.dot.node(self.dot.fresh("out"), f"output {name}", shape="house",
                                        style="filled", fillcolor="#e6f4ea")
                    self.dot.edge(source, out)

    def _source(self, value: SSAValue) -> str | None:
        """The drawn node a value comes from: itself, or the nearest drawn value it is
        computed from on the host (a mean is a reduction's sum divided by a count)."""
        todo, seen = [value], set()
        while todo:
            v = todo.pop(0)
            if v in self.nodes:
                return self.nodes[v]
            if v in seen or not isinstance(v.owner, Operation):
                continue
            seen.add(v)
            todo.extend(v.owner.operands)
        return None

    def block(self, block: Block) -> None:
        for op in block.ops:
            if isinstance(op, memref.AllocOp):
                self.nodes[op.memref] = self.dot.node(self.dot.fresh("buf"),
                                                      f"{op.memref.name_hint or 'buffer'}\n{type_name(op.memref.type)}",
                                                      shape="cylinder")
            elif isinstance(op, kern.LaunchOp):
                self.launch(op)
            elif isinstance(op, scf.ForOp):
                self.loop(op)
            elif isinstance(op, kern.CheckOp):
                self.dot.node(self.dot.fresh("check"), f"check: {op.message.data}", shape="octagon", fontsize="9")
            elif op.regions and not isinstance(op, scf.ForOp):
                with self.dot.cluster(op.name):
                    for region in op.regions:
                        for inner in region.blocks:
                            self.block(inner)

    def launch(self, op: kern.LaunchOp) -> None:
        kernel = self.kernels.get(op.kernel_name)
        written = written_args(kernel) if kernel is not None else set()
        rank = kernel.rank.value.data if kernel is not None else len(op.grid)
        node = self.dot.node(self.dot.fresh("launch"), f"kernel {op.kernel_name}\nrank {rank}",
                             shape="box", style="filled", fillcolor="#fde7c8")
        for result in op.res:
            self.nodes[result] = self.dot.node(self.dot.fresh("value"), f"{type_name(result.type)}", shape="note")
            self.dot.edge(node, self.nodes[result], label="reduces")
        for i, arg in enumerate(op.args):
            buffer = self.nodes.get(arg)
            if buffer is None:
                continue
            if i in written:
                self.dot.edge(node, buffer, label="writes")
            else:
                self.dot.edge(buffer, node)

    def loop(self, op: scf.ForOp) -> None:
        body = op.body.block
        slots = body.args[1:]
        with self.dot.cluster("host loop (scf.for)", style="filled", fillcolor="#f3e8fd"):
            for init, slot in zip(op.iter_args, slots):
                if not isinstance(slot.type, MemRefType):
                    continue
                self.nodes[slot] = self.dot.node(self.dot.fresh("slot"),
                                                 f"slot {slot.name_hint or ''}".strip() + f"\n{type_name(slot.type)}",
                                                 shape="cylinder", style="filled", fillcolor="#ffffff")
                if init in self.nodes:
                    self.dot.edge(self.nodes[init], self.nodes[slot], label="init", style="dotted")
            self.block(body)
            yielded = body.last_op
            if isinstance(yielded, scf.YieldOp):
                swap = set(yielded.operands) <= set(slots) and list(yielded.operands) != list(slots)
                for value, slot in zip(yielded.operands, slots):
                    if value is not slot and value in self.nodes and slot in self.nodes:
                        self.dot.edge(self.nodes[value], self.nodes[slot], label="swap" if swap else "next",
                                      style="dashed", color="#7b1fa2", constraint="false")
        for result, slot in zip(op.results, slots):
            if slot in self.nodes:
                self.nodes[result] = self.nodes[slot]


def draw_schedule(dot: Dot, module: ModuleOp, function: str | None) -> None:
    """Every host function of the ``kern`` ``module`` (or only ``function``) as a cluster."""
    kernels = {op.sym_name.data: op for op in module.body.block.ops if isinstance(op, kern.KernelOp)}
    for fn in module.body.block.ops:
        if not isinstance(fn, func.FuncOp) or function not in (None, fn.sym_name.data):
            continue
        with dot.cluster(f"host {fn.sym_name.data}", style="rounded"):
            ScheduleDrawer(dot, kernels).function(fn)
