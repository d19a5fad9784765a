"""The graph half of ``--emit dot``: the L1 program as the frontend wrote it.

Nodes are the graph-level ops (a ``graph.map`` is one node, its body folded into a
count of ops), the inputs and the outputs; a ``loop.repeat`` is a cluster holding its
body, with its states as nodes and a dashed ``next`` edge from each yielded value back
to its state. Fusion groups are clusters too: each sink (``graph.capture``,
``graph.reduce``, ``graph.histogram``) carries the ``group N`` that ``graph-schedule``
gave it on a lowered copy of the module, and its group's cluster holds the sink and
every field producer ``graph-fuse`` splices into it (the producers reached backwards
through field-valued operands, up to images, which are buffers). A producer spliced
into several kernels is drawn once, in the first, and says how many kernels recompute
it; an implicit capture ``graph-fuse`` chose to recompute is drawn dashed.
"""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, StringAttr
from xdsl.ir import Block, Operation, SSAValue

from ccomp.dialects import graph, loop
from ccomp.driver.dot import Dot

SINK_MARK = "ccomp.dot_sink"
"""Attribute numbering the sinks of the L1 module, so the lowered copy's ``group``
of each sink can be found again (clones keep attributes)."""

_SINKS = (graph.CaptureOp, graph.ReduceOp, graph.HistogramOp)


def mark_sinks(module: ModuleOp) -> None:
    """Number every sink of ``module`` (before it is cloned and lowered)."""
    sinks = (op for op in module.walk() if isinstance(op, _SINKS))
    for i, op in enumerate(sinks):
        op.attributes[SINK_MARK] = IntegerAttr(i, 64)


def fusion_groups(fused: ModuleOp) -> dict[int, int]:
    """Sink number -> ``group`` in the module after ``graph-schedule``; a sink that is
    missing there (an implicit capture recomputed) or has no group is absent."""
    found = {}
    for op in fused.walk():
        mark = op.attributes.get(SINK_MARK)
        group = getattr(op, "group", None)
        if isinstance(mark, IntegerAttr) and group is not None:
            found[mark.value.data] = group.value.data
    return found


def type_name(t) -> str:
    """A short spelling of an IR type for a label (``field<vec4>``, ``image<f32>``)."""
    text = str(t).replace("!graph.", "")
    for n in (2, 3, 4):
        text = text.replace(f"vector<{n}xf32>", f"vec{n}").replace(f"vector<{n}xi32>", f"ivec{n}")
    return text


def _name(value: SSAValue) -> str:
    return f"{value.name_hint} = " if value.name_hint else ""


def _label(op: Operation) -> str:
    short = op.name.split(".", 1)[1]
    result = op.results[0] if op.results else None
    head = _name(result) if result is not None else ""
    if isinstance(op, graph.MapOp):
        body = f"map ({len(op.body.block.ops) - 1} ops)"
    elif isinstance(op, graph.BlurOp):
        body = f"blur r={op.radius.value.data}" if hasattr(op.radius, "value") else "blur"
    elif isinstance(op, graph.ReduceOp):
        body = f"reduce {op.kind.data}" if isinstance(op.kind, StringAttr) else "reduce"
    elif isinstance(op, graph.HistogramOp):
        body = "histogram"
    elif isinstance(op, graph.CaptureOp):
        body = "capture (implicit)" if op.implicit is not None else "capture"
    else:
        body = short
    kinds = ", ".join(type_name(r.type) for r in op.results)
    return f"{head}{body}" + (f"\n{kinds}" if kinds else "")


class GraphDrawer:
    """Draws one function's blocks into a :class:`Dot`, keeping SSA value -> node id."""

    def __init__(self, dot: Dot, groups: dict[int, int]):
        self.dot, self.groups = dot, groups
        self.nodes: dict[SSAValue, str] = {}
        self.drawn: dict[Operation, str] = {}
        self.recomputed: dict[Operation, set[int]] = {}
        self.via: dict[SSAValue, set[str]] = {}  # results of undrawn scalar ops -> the nodes they come from
        self.pending: list[tuple[tuple[SSAValue, ...], str, dict[str, str]]] = []  # edges, drawn last

    def function(self, fn: func.FuncOp) -> None:
        names = [a.data for a in fn.attributes["graph.outputs"].data] if "graph.outputs" in fn.attributes else []
        for i, arg in enumerate(fn.body.block.args):
            attrs = fn.arg_attrs.data[i].data if fn.arg_attrs else {}
            name = attrs["graph.name"].data if "graph.name" in attrs else f"arg{i}"
            self.nodes[arg] = self.dot.node(self.dot.fresh("in"), f"{name}\n{type_name(arg.type)}",
                                            shape="invhouse", style="filled", fillcolor="#e8f0fe")
        self.block(fn.body.block)
        ret = fn.body.block.last_op
        if isinstance(ret, func.ReturnOp):
            for i, value in enumerate(ret.arguments):
                name = names[i] if i < len(names) else f"out{i}"
                out = self.dot.node(self.dot.fresh("out"), f"{name}\n{type_name(value.type)}",
                                    shape="house", style="filled", fillcolor="#e6f4ea")
                self.edge(value, out)
        self.flush()

    def block(self, block: Block) -> None:
        member = self._members(block)
        clusters: dict[int, list[Operation]] = {}
        for op, group in member.items():
            clusters.setdefault(group, []).append(op)
        for group, ops in sorted(clusters.items()):
            with self.dot.cluster(f"fusion group {group}: one kernel", style="filled,dashed", fillcolor="#fff8e1"):
                for op in sorted(ops, key=block.get_operation_index):
                    self.op(op)
        for op in block.ops:
            if op in member:
                continue
            if isinstance(op, loop.RepeatOp):
                self.repeat(op)
            elif op.name.startswith(("graph.", "sparse.", "loop.")) and not isinstance(op, (loop.YieldOp, graph.YieldOp)):
                self.op(op)
            else:  # scalar arithmetic (sizes, uniforms) folds into the edges it passes on
                sources = set().union(*(self._sources(v) for v in op.operands)) if op.operands else set()
                for r in op.results:
                    self.via[r] = sources

    def _members(self, block: Block) -> dict[Operation, int]:
        """Op -> the fusion group it is drawn in: each grouped sink, and the field
        producers of this block spliced into it (the first group wins)."""
        member: dict[Operation, int] = {}
        for sink in block.ops:
            mark = sink.attributes.get(SINK_MARK)
            if not isinstance(sink, _SINKS) or not isinstance(mark, IntegerAttr):
                continue
            group = self.groups.get(mark.value.data)
            if group is None:
                continue
            member.setdefault(sink, group)
            stack, seen = [sink.input], set()
            while stack:
                owner = stack.pop().owner
                if not isinstance(owner, Operation) or owner.parent_block() is not block or owner in seen:
                    continue
                seen.add(owner)
                if isinstance(owner, _SINKS) and owner is not sink and self._kept(owner):
                    continue  # a materialised image: a buffer between kernels
                self.recomputed.setdefault(owner, set()).add(group)
                member.setdefault(owner, group)
                stack.extend(v for v in self._reads(owner) if isinstance(v.type, graph.AnyFieldType))
        return member

    def _kept(self, sink: Operation) -> bool:
        mark = sink.attributes.get(SINK_MARK)
        return isinstance(mark, IntegerAttr) and mark.value.data in self.groups

    @staticmethod
    def _reads(op: Operation) -> list[SSAValue]:
        """Values defined outside ``op`` that it or any op of its body reads (a map's
        body reads images' neighbours through ``graph.load`` of outer values)."""
        values = []
        for inner in op.walk():
            for v in inner.operands:
                where = v.owner if isinstance(v.owner, Operation) else v.owner.parent_op()
                if where is None or not op.is_ancestor(where):
                    values.append(v)
        return values

    def op(self, op: Operation) -> None:
        label, attrs = _label(op), {"shape": "box", "style": "rounded"}
        if isinstance(op, _SINKS):
            attrs = {"shape": "box", "style": "bold"}
            if isinstance(op, graph.CaptureOp) and op.implicit is not None and not self._kept(op):
                label, attrs = label.replace("(implicit)", "(implicit, recomputed)"), {"shape": "box", "style": "dashed"}
        if len(self.recomputed.get(op, ())) > 1 and not isinstance(op, _SINKS):
            label += f"\n(recomputed in {len(self.recomputed[op])} kernels)"
        node = self.dot.node(self.dot.fresh("op"), label, **attrs)
        self.drawn[op] = node
        for r in op.results:
            self.nodes[r] = node
        self.pending.append((tuple(self._reads(op)), node, {}))

    def repeat(self, op: loop.RepeatOp) -> None:
        body = op.body.block
        states = body.args[1:]
        names = ", ".join(s.name_hint or f"s{i}" for i, s in enumerate(states))
        with self.dot.cluster(f"repeat ({names})", style="filled", fillcolor="#f3e8fd"):
            count = self.dot.node(self.dot.fresh("count"), "count", shape="plaintext")
            self.edge(op.count, count)
            for init, state in zip(op.inits, states):
                self.nodes[state] = self.dot.node(self.dot.fresh("state"),
                                                  f"state {state.name_hint or ''}".strip() + f"\n{type_name(state.type)}",
                                                  shape="cylinder")
                self.edge(init, self.nodes[state], label="init")
            self.block(body)
            yielded = body.last_op
            if isinstance(yielded, loop.YieldOp):
                for value, state in zip(yielded.operands, states):
                    self.edge(value, self.nodes[state], label="next", style="dashed", constraint="false")
        for result, state in zip(op.res, states):
            self.nodes[result] = self.nodes[state]

    def _sources(self, value: SSAValue) -> set[str]:
        if value in self.nodes:
            return {self.nodes[value]}
        return self.via.get(value, set())

    def edge(self, value: SSAValue, head: str, **attrs: str) -> None:
        self.pending.append(((value,), head, attrs))

    def flush(self) -> None:
        """Draw the edges once every value has its node (a group's members are drawn
        before the scalar ops between them are seen)."""
        for values, head, attrs in self.pending:
            tails = set().union(*(self._sources(v) for v in values)) if values else set()
            for tail in sorted(tails - {head}):
                self.dot.edge(tail, head, **attrs)
        self.pending.clear()


def draw_graph(dot: Dot, module: ModuleOp, groups: dict[int, int], function: str | None) -> None:
    """Every function of the L1 ``module`` (or only ``function``) as a cluster."""
    for fn in module.body.block.ops:
        if not isinstance(fn, func.FuncOp) or function not in (None, fn.sym_name.data):
            continue
        with dot.cluster(f"{fn.sym_name.data}", style="rounded"):
            GraphDrawer(dot, groups).function(fn)
