"""Run one compiled handler over a :class:`~ccomp.runtime.actors.spec.Batch`.

A :class:`HandlerRunner` is the ``HandlerSpec.run`` callable: it owns the
:class:`ccomp.api.Program` of the handler's host function (see ``actor-lower``'s
port layout in :mod:`ccomp.passes.lowering.actor_kernel`) and per batch only binds
columns, makes one call and wraps the outputs — no Python work per message. Offsets
of variable-length fields are rebased to start at 0 and passed as ``int32`` (what
every target's kernels index with); a variable-length output shares the offsets of
the input field its length comes from. Rows that failed are dropped from the replies
and sends with NumPy (only when some failed) and reported with a located diagnostic.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import FileLineColLoc, IntegerAttr, ModuleOp, StringAttr, TensorType
from xdsl.ir import Attribute

from ccomp.diagnostics import CompileError, Source, SourceLoc
from ccomp.dialects import actor, ports
from ccomp.driver.actor_launch import DirectLaunch
from ccomp.driver.actor_llvmpipe import LOOP_BUDGET, is_llvmpipe, row_costs, run_within_budget
from ccomp.runtime.actors.spec import Batch, FieldSpec, HandlerResult, MessageSpec

I32_MAX = 2**31 - 1
_DTYPES = {"f32": "float32", "f64": "float64", "i32": "int32", "i64": "int64", "i1": "bool"}


def _stored(dtype: str) -> str:
    """A column as kernels store it: bools as int32 0/1 (``actor_kernel.stored``)."""
    return "int32" if dtype == "bool" else dtype


def dtype_of(t: Attribute) -> str:
    return _DTYPES[str(t)]


def field_spec(name: str, t: Attribute) -> FieldSpec:
    if isinstance(t, TensorType):
        (n,) = t.get_shape()
        return FieldSpec(name, dtype_of(t.element_type), (None,) if n < 0 else (n,))
    return FieldSpec(name, dtype_of(t))


class HandlerRunner:
    """``run(state, batch) -> HandlerResult`` for one handler (see the module docstring)."""

    def __init__(self, source: Source, target: str, module: ModuleOp, code, host: func.FuncOp,
                 messages: dict[str, MessageSpec], message: str, reply: str | None, states: Sequence[str],
                 checks: list[tuple[str, SourceLoc | None]]):
        from ccomp.api import Program
        from ccomp.runtime.build import Build

        self.source, self.message, self.reply, self.checks = source, message, reply, checks
        name = host.sym_name.data
        if target == "llvm":
            build = Build(source, target, module, name, {}, llvm=code)
        else:
            build = Build(source, target, module, name, {}, sources=code)
        self.program = Program(build)
        self.spec = messages[message]
        self.states = list(states)
        outs = ports.output_names(host)
        self.written = [n[len("state."):] for n in outs if n.startswith("state.")]
        lengths = {k: (v.data if isinstance(v, StringAttr) else v.value.data)
                   for k, v in host.attributes[actor.LENGTHS].data.items() if isinstance(v, (StringAttr, IntegerAttr))}
        # the outgoing messages: (key, message spec, [(output index, field spec, length source)])
        self.outgoing: list[tuple[str, MessageSpec, list[tuple[int, FieldSpec, str | int | None]]]] = []
        sends = []
        for op in _outgoing_ops(module, name):
            key, msg = op
            spec = messages[msg]
            prefix = "reply" if key is None else f"send.{key}"
            cols = [(outs.index(f"{prefix}.{f.name}"), f, lengths.get(f"{prefix}.{f.name}")) for f in spec.fields]
            self.outgoing.append((key, spec, cols))
            if key is not None:
                sends.append((key, msg))
        self.sends = tuple(sends)
        self.where = _location(host.location, source)
        # glsl on llvmpipe: batches split to fit its loop budget (actor_llvmpipe)
        self.loop_cost = {k: v.value.data for k, v in host.attributes[actor.LOOP_COST].data.items()}
        self.budget = target == "glsl" and is_llvmpipe(self.program.device)
        if self.budget and "?" in self.loop_cost:
            raise CompileError(f"this handler loops over a length known only when it runs (fill(n, v)); on the "
                               f"glsl target with llvmpipe, which stops a shader after {LOOP_BUDGET} loop "
                               f"iterations, that cannot be bounded: use -t llvm or -t opencl", self.where, source)
        # on llvm a batch is one direct launch of the kernel on the program's device
        # (see _launch); other targets run the host function through the Program
        self.kernel = DirectLaunch(self.program.device, f"{name}_0") if target == "llvm" else None
        self.out_dtypes = [np.dtype(dtype_of(t.element_type)) for t in host.function_type.outputs]
        self._sized: dict[int, list] = {}  # batch size -> outputs' (shape, dtype), see _launch
        # each output's size: ("rows", shape of a row), ("one", None) for a state, or a
        # variable-length output's ("values", input field) / ("fixed", length per row)
        self.out_shapes: list[tuple[str, object]] = [("rows", ())] + [("one", None)] * len(self.written)
        for _, _, cols in self.outgoing:
            for _, f, source in cols:
                self.out_shapes.append(("rows", f.shape) if not f.variable else
                                       ("values", source) if isinstance(source, str) else ("fixed", int(source)))

    def bind(self, state: dict[str, np.ndarray], batch: Batch) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
        """The host function's inputs for ``batch``. Shapes and offsets are checked here,
        once per batch, because the kernel trusts them (a launch reads by them)."""
        args, offsets, n = [], {}, batch.n
        for f in self.spec.fields:
            col = batch.columns.get(f.name)
            if col is None:
                raise ValueError(f"batch of {batch.message} has no column '{f.name}'")
            if f.variable:
                off = np.asarray(batch.offsets[f.name])
                start, end = int(off[0]), int(off[-1])
                if off.shape != (n + 1,) or start < 0 or end > len(col) or (n > 1 and (np.diff(off) < 0).any()):
                    raise ValueError(f"field '{f.name}' of a {batch.message} batch: {n + 1} non-decreasing offsets "
                                     f"into its {len(col)} values expected")
                if end - start > I32_MAX:
                    raise ValueError(f"field '{f.name}' of a {batch.message} batch holds {end - start} values; "
                                     f"a batch holds at most {I32_MAX} per field (kernels index with i32)")
                rebased = (off - start).astype(np.int32) if start else off.astype(np.int32, copy=False)
                args += [np.ascontiguousarray(col[start:end], dtype=f.dtype), rebased]
                offsets[f.name] = rebased
            else:
                if np.shape(col) != (n, *f.shape):
                    raise ValueError(f"field '{f.name}' of a {batch.message} batch of {n}: shape "
                                     f"{(n, *f.shape)} expected, got {np.shape(col)}")
                args.append(np.ascontiguousarray(col, dtype=_stored(f.dtype)))
        for s in self.states:
            value = state[s]
            args.append(np.ascontiguousarray(value, dtype=_stored(value.dtype.name)).reshape(1))
        return args, offsets

    def __call__(self, state: dict[str, np.ndarray], batch: Batch) -> HandlerResult:
        if self.budget and batch.n:
            stateful = bool(self.written)
            costs = row_costs(self.loop_cost, stateful, batch)
            if (costs > LOOP_BUDGET).any() or (stateful and int(costs.sum()) > LOOP_BUDGET):
                res = run_within_budget(self._run, self.spec, state, batch, costs, stateful, self._too_costly)
                if res.replies is None and self.reply is not None:
                    res.replies = self._empty(self.reply)
                return res
        return self._run(state, batch)

    def _too_costly(self, row: int, cost: int) -> str:
        return str(CompileError(f"message {row} of the batch failed: handling it takes {cost} loop iterations "
                                f"in one shader invocation, and llvmpipe stops one after 65535; use -t llvm "
                                f"or -t opencl", self.where, self.source if self.where is not None else None))

    def _run(self, state: dict[str, np.ndarray], batch: Batch, row0: int = 0) -> HandlerResult:
        """One launch over ``batch`` (rows numbered from ``row0`` in diagnostics)."""
        if batch.n == 0:
            return HandlerResult(self._empty(self.reply) if self.reply else None,
                                 {k: self._empty(m.name) for k, m, _ in self.outgoing if k is not None},
                                 np.zeros(0, bool))
        args, offsets = self.bind(state, batch)
        if self.kernel is not None:
            outs = self._launch(args, offsets, batch.n)
        else:
            outs = self.program(*args)
            outs = outs if isinstance(outs, tuple) else (outs,)
        status = outs[0]
        for k, name in enumerate(self.written):
            state[name][...] = outs[1 + k][0]
        failed = status != 0
        any_failed = bool(status[0]) if batch.n == 1 else bool(failed.any())  # one message: no reduction
        ok = ~failed if any_failed else None
        result = HandlerResult(None, {}, failed, self._errors(status, row0) if any_failed else {})
        for key, spec, cols in self.outgoing:
            out = self._batch(spec, cols, outs, offsets, batch.n, ok)
            if key is None:
                result.replies = out
            else:
                result.sends[key] = out
        return result

    def _launch(self, args: list[np.ndarray], offsets: dict[str, np.ndarray], n: int) -> list[np.ndarray]:
        """The host function's work done directly: allocate its outputs (the sizes
        ``actor-lower`` gives them: per row, one per state, or the values of the field a
        variable-length output shares offsets with) and launch its one kernel. Through
        the buffer pool and the native host this cost about 100 us per batch for five
        outputs; allocating with NumPy and launching directly costs a few."""
        shapes = self._sized.get(n) if not offsets else None  # sizes that follow n alone: kept per n
        if shapes is None:
            shapes = [((n, *arg) if kind == "rows" else (1,) if kind == "one" else
                       (int(offsets[arg][-1]),) if kind == "values" else (n * arg,), dtype)
                      for (kind, arg), dtype in zip(self.out_shapes, self.out_dtypes)]
            if not offsets and n <= 64:
                self._sized[n] = shapes
        outs = [np.empty(shape, dtype) for shape, dtype in shapes]
        self.kernel((1,) if self.written else (n,), [*args, *outs])
        return outs

    def _batch(self, spec: MessageSpec, cols, outs, offsets, n: int, ok: np.ndarray | None) -> Batch:
        columns, offs = {}, {}
        for index, f, source in cols:
            values = outs[index]
            if f.variable:
                off = offsets[source] if isinstance(source, str) else np.arange(n + 1, dtype=np.int64) * source
                if ok is not None:
                    lengths = np.diff(off)
                    values = values[np.repeat(ok, lengths)]
                    off = np.concatenate([[0], np.cumsum(lengths[ok])])
                columns[f.name], offs[f.name] = values, np.asarray(off, dtype=np.int64)
            else:
                values = values.astype(bool) if f.dtype == "bool" else values
                columns[f.name] = values if ok is None else values[ok]
        count = n if ok is None else int(ok.sum())
        return Batch(spec.name, count, columns, offs)

    def _empty(self, message: str | None) -> Batch:
        spec = self.spec if message is None else next(m for _, m, _ in self.outgoing if m.name == message)
        columns = {f.name: np.zeros((0, *(d for d in f.shape if d is not None)), dtype=f.dtype) for f in spec.fields}
        offs = {f.name: np.zeros(1, np.int64) for f in spec.fields if f.variable}
        return Batch(spec.name, 0, columns, offs)

    def _errors(self, status: np.ndarray, row0: int = 0) -> dict[int, str]:
        errors = {}
        for row in np.flatnonzero(status):
            message, loc = self.checks[int(status[row]) - 1]
            errors[row0 + int(row)] = str(CompileError(f"message {row0 + row} of the batch failed: {message}", loc,
                                                       self.source if loc is not None else None))
        return errors


def _location(loc, source: Source) -> SourceLoc | None:
    return SourceLoc(source.name, loc.line.data, loc.column.data) if isinstance(loc, FileLineColLoc) else None


def _outgoing_ops(module: ModuleOp, host: str) -> list[tuple[str | None, str]]:
    """(None or the target actor, message type) of a host function's outputs, in order,
    read from its output names (``reply.<field>``, ``send.<actor>.<field>``)."""
    fn = next(op for op in module.body.block.ops if isinstance(op, func.FuncOp) and op.sym_name.data == host)
    seen: list[str | None] = []
    for name in ports.output_names(fn):
        key = None if name.startswith("reply.") else name.split(".")[1] if name.startswith("send.") else ""
        if key != "" and key not in seen:
            seen.append(key)
    msgs = fn.attributes.get(actor.OUT_MESSAGES)
    return [(k, m.data) for k, m in zip(seen, msgs.data)] if msgs is not None else []
