"""The C-style kernel emitter shared by the GLSL and OpenCL backends.

GLSL compute shaders and OpenCL C are C in different dress: the same statements,
operators and most built-ins, but other type names, buffer declarations and work-item
built-ins. As in tinygrad's ``cstyle`` renderer, this base owns what they share -- SSA
naming, indentation, the op table, structured control flow, buffer indexing, the
bounds guard and the per-workgroup reduction tree -- and ``glsl.py``/``opencl.py`` only
override spellings. Every SSA value becomes a typed local (``T name = expr;``): the
drivers' compilers fold them away and the source stays one-to-one with the IR.

Mixins keep each part small: the op table in ``ops.py``, defined integer and float
semantics where C's differ in ``numeric.py``, buffer access in
``buffers.py``, the reduction tree in ``reduce.py``, type helpers in ``types.py``. Ops
are dispatched through a table keyed on op classes (``ccomp.backends.dispatch``); the
ABI handed to runtimes
is ``ccomp/runtime/abi.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any, ClassVar

from xdsl.dialects import memref
from xdsl.dialects.builtin import (
    Float32Type, Float64Type, IndexType, IntegerType, MemRefType, ModuleOp, VectorType,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue

from ccomp.backends.cstyle.buffers import BufferOps
from ccomp.backends.cstyle.numeric import NumericOps
from ccomp.backends.cstyle.ops import OpTable
from ccomp.backends.cstyle.reduce import ReduceTree
from ccomp.backends.cstyle.types import (  # noqa: F401  (re-exported for the targets)
    decimal, dtype_name, element_of, fit_local_size, int_text, is_bool, is_float, lanes_of, wrap_int,
)
from ccomp.backends.cstyle.errors import EmitError
from ccomp.backends.dispatch import cannot_emit, op_table
from ccomp.runtime.abi import Binding, KernelSource
from ccomp.dialects.kern import AtomicAddOp, KernelOp

class CStyleEmitter(NumericOps, OpTable, BufferOps, ReduceTree):
    """Turns one ``kern.kernel`` into C-like source; subclasses give the spellings."""

    target: ClassVar[str] = "c"
    BARRIER: ClassVar[str] = ""
    LOCAL_SIZES: ClassVar[dict[int, tuple[int, ...]]] = {1: (256,), 2: (16, 16), 3: (8, 8, 8)}
    REDUCE_COARSEN: ClassVar[int] = 1  # points per invocation along the slowest dim (reduce)
    SWIZZLE = "xyzw"
    # A kernel that counts (``kern.atomic_add``: a histogram) must compute its bin edges
    # as NumPy does, two rounded operations, never a fused multiply-add: the line that
    # opens such a body without contraction, and the qualifier of its float locals.
    EXACT_BODY: ClassVar[str] = ""
    EXACT_DECL: ClassVar[str] = ""
    ALWAYS_EXACT: ClassVar[bool] = False  # every kernel as exact (GLSL: see glsl.py)
    # Scalar type names: integers by width (a width not listed is unsupported), and the
    # names that need a language feature the translation unit must enable.
    INT_TYPES: ClassVar[dict[int, str]] = {}
    TYPE_FEATURES: ClassVar[dict[str, str]] = {}
    # Work-item built-ins as ``str.format`` templates over ``d`` (the dimension),
    # ``axis`` (its letter, x/y/z), ``size`` (the workgroup size along it) and ``last``
    # (``size - 1``); each gives an ``int`` expression.
    GLOBAL_ID: ClassVar[str] = ""
    LOCAL_LINEAR_ID: ClassVar[str] = ""
    GROUP_ID: ClassVar[str] = ""
    NUM_GROUPS: ClassVar[str] = ""

    def __init__(self, kernel: KernelOp, local_size: tuple[int, ...]):
        self.kernel = kernel
        self.rank = kernel.rank.value.data
        self.local_size = local_size
        self.reduce = kernel.reduce.data if kernel.reduce is not None else None
        self.exact = False  # see EXACT_BODY
        self.lines: list[str] = []
        self.depth = 1
        self.names: dict[SSAValue, str] = {}
        self.taken: set[str] = set()
        self.features: set[str] = set()
        self.buffers: dict[SSAValue, Binding] = {}
        self.bindings: list[Binding] = []
        self.yield_targets: list[list[str]] = []
        self.slots = 0
        self.extents: tuple[str, ...] = ()
        self.extent_slots: tuple[int, ...] = ()
        self.bases: tuple[str, ...] = ()  # GLSL: dispatch-chunk offsets
        self.entry = ""
        self.partials: Binding | None = None  # reduce kernels: per-workgroup results
        self.result_dtype: str | None = None
        self.red_type = ""
        self.red_count = 0
        self.handlers = type(self).op_handlers()

    # ---- target hooks (spellings) -------------------------------------------------------
    def scalar_type(self, t: Attribute) -> str:
        if isinstance(t, IndexType):
            name = "int"
        elif isinstance(t, Float32Type):
            name = "float"
        elif isinstance(t, Float64Type):
            name = "double"
        elif isinstance(t, IntegerType) and t.width.data in self.INT_TYPES:
            name = self.INT_TYPES[t.width.data]
        else:
            raise EmitError(f"{self.target} backend: unsupported type {t} in kernel @{self.kernel.kernel_name}")
        if name in self.TYPE_FEATURES:
            self.features.add(self.TYPE_FEATURES[name])
        return name

    def vector_type(self, elem: Attribute, lanes: int) -> str:
        raise NotImplementedError

    def construct(self, t: Attribute, parts: list[str]) -> str:
        raise NotImplementedError

    def convert(self, expr: str, src: Attribute, dst: Attribute) -> str:
        raise NotImplementedError

    def float_literal(self, value: float, t: Attribute) -> str:
        raise NotImplementedError

    def int_literal(self, value: int, t: Attribute) -> str:
        raise NotImplementedError

    def _work_item(self, template: str, dim: int = 0) -> str:
        size = self.local_size[dim] if dim < len(self.local_size) else 1
        return template.format(d=dim, axis="xyz"[dim], size=size, last=size - 1)

    def global_id(self, dim: int) -> str:
        return self._work_item(self.GLOBAL_ID, dim)

    def local_linear_id(self) -> str:
        return self._work_item(self.LOCAL_LINEAR_ID)

    def group_id(self, dim: int) -> str:
        return self._work_item(self.GROUP_ID, dim)

    def num_groups(self, dim: int) -> str:
        return self._work_item(self.NUM_GROUPS, dim)

    def next_slot(self, role: str) -> int:
        """The slot of the next parameter: by default one count over every parameter (a
        kernel argument index); GLSL numbers SSBO bindings and texture units apart."""
        self.slots += 1
        return self.slots - 1

    def assemble(self, body: list[str]) -> str:
        """Wrap the kernel body lines into a complete translation unit."""
        raise NotImplementedError

    def storage_type(self, t: Attribute) -> Attribute:
        """The type a buffer stores for element type ``t`` (index is stored as i64)."""
        return IntegerType(64) if isinstance(t, IndexType) else t

    def texture_format(self, t: Attribute, access: str) -> str:
        """The buffer-texture format to read a buffer of element ``t`` through ("": none)."""
        return ""

    def uniform_expr(self, name: str, t: Attribute) -> str:
        """How the body reads a scalar parameter; OpenCL turns int flags into bools."""
        return name

    # ---- naming and output --------------------------------------------------------------
    def type_name(self, t: Attribute) -> str:
        if isinstance(t, VectorType):
            return self.vector_type(t.element_type, lanes_of(t))
        return self.scalar_type(t)

    def fresh(self, hint: str | None, prefix: str = "") -> str:
        """A new identifier from an IR name hint.

        Locals are ``hint_N`` (no keyword or built-in ends in ``_N``); bindings are
        ``b_hint``/``u_hint`` so the ABI names stay stable. Hints are sanitised so none
        can form a reserved name (``gl_`` prefix, ``__`` inside)."""
        base = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", hint or "")).strip("_")
        if prefix:
            return self.unique(f"{prefix}_{base}" if base else prefix)
        if not base or not base[0].isalpha() or base.lower().startswith(("gl", "ccomp")):
            base = f"v_{base}".rstrip("_")
        return self.unique(f"{base}_{len(self.taken)}")

    def unique(self, name: str) -> str:
        """``name``, or ``name_N`` if taken; ``ccomp_*`` names are left to the emitter."""
        candidate, n = name, 1
        while candidate in self.taken:
            candidate, n = f"{name}_{n}", n + 1
        self.taken.add(candidate)
        return candidate

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    def name(self, v: SSAValue) -> str:
        if v not in self.names:
            raise EmitError(f"{self.target}: value {v} has no emitted definition")
        return self.names[v]

    def define(self, v: SSAValue, expr: str) -> str:
        n = self.fresh(v.name_hint)
        self.names[v] = n
        exact = self.EXACT_DECL if self.exact and is_float(v.type) else ""
        self.line(f"{exact}{self.type_name(v.type)} {n} = {expr};")
        return n

    def comp(self, expr: str, k: int) -> str:
        return f"{expr}.{self.SWIZZLE[k]}"

    def componentwise(self, t: Attribute, fn) -> str:
        """A vector value built lane by lane, for ops C has no vector form of."""
        return self.construct(t, [fn(k) for k in range(lanes_of(t))])

    def unsupported(self, op: Operation, why: str = "") -> EmitError:
        extra = f" ({why})" if why else ""
        return EmitError(
            f"{self.target} backend: cannot emit '{op.name}'{extra} in kernel "
            f"@{self.kernel.kernel_name} at {op.location}"
        )

    # ---- bindings -----------------------------------------------------------------------
    def _bind(self) -> None:
        for i, arg in enumerate(self.kernel.body.block.args):
            t = arg.type
            if isinstance(t, MemRefType):
                name = self.fresh(arg.name_hint or str(i), "b")
                access = self._access(arg)
                dtype = dtype_name(self.storage_type(element_of(t.element_type)))
                texture = self.texture_format(t.element_type, access)
                slot = self.next_slot("texture" if texture else "buffer")
                dims = tuple(self.unique(f"{name}_d{k}") for k in range(t.get_num_dims()))
                dim_slots = tuple(self.next_slot("dim") for _ in dims)
                b = Binding(name, i, "buffer", slot, str(t), dtype,
                            lanes_of(t.element_type), access, dims, dim_slots, texture)
                self.buffers[arg] = b
            else:
                name = self.fresh(arg.name_hint or str(i), "u")
                dtype = self.param_dtype(t)
                b = Binding(name, i, "uniform", self.next_slot("uniform"), str(t), dtype,
                            lanes_of(t), "read", (), ())
                self.names[arg] = self.uniform_expr(name, t)
            self.bindings.append(b)
        self.extents = tuple(f"ccomp_ext{d}" for d in range(self.rank))
        self.extent_slots = tuple(self.next_slot("extent") for _ in self.extents)

    def param_dtype(self, t: Attribute) -> str:
        e = element_of(t)
        return "int32" if isinstance(e, IndexType) or is_bool(e) else dtype_name(e)

    def _access(self, arg: SSAValue) -> str:
        reads = writes = False
        for use in arg.uses:
            op = use.operation
            if isinstance(op, memref.LoadOp):
                reads = True
            elif isinstance(op, memref.StoreOp) and op.memref is arg:
                writes = True
            elif isinstance(op, AtomicAddOp):
                reads = writes = True
            elif not isinstance(op, memref.DimOp):
                raise self.unsupported(op, "a buffer may only be loaded, stored or measured")
        return {(True, True): "read_write", (True, False): "read",
                (False, True): "write", (False, False): "none"}[(reads, writes)]

    # ---- the kernel ---------------------------------------------------------------------
    def emit(self) -> KernelSource:
        self._bind()
        self.exact = self.ALWAYS_EXACT or any(isinstance(op, AtomicAddOp) for op in self.kernel.walk())
        if self.exact and self.EXACT_BODY:
            self.line(self.EXACT_BODY)
        for d in range(self.rank):
            reduce_rows = self.reduce is not None and d == self.rank - 1
            self.line(f"int {'ccomp_first' if reduce_rows else f'ccomp_gid{d}'} = {self.global_id(d)};")
        inside = " && ".join(f"ccomp_gid{d} < ccomp_ext{d}" for d in range(self.rank))
        if self.reduce is None:
            self.line(f"if (!({inside})) return;")
            self.emit_block(self.kernel.body.block)
        else:
            self.partials = self._emit_reduce(inside)
        entry = re.sub(r"[^A-Za-z0-9_]", "_", self.kernel.kernel_name)
        if not re.match(r"[A-Za-z]", entry) or entry in ("main", "kernel") or "__" in entry:
            entry = "k_" + re.sub(r"_+", "_", entry)
        self.entry = entry
        return KernelSource(
            name=self.kernel.kernel_name, entry=entry, target=self.target,
            source=self.assemble(self.lines), rank=self.rank, local_size=self.local_size,
            bindings=tuple(self.bindings), extents=self.extents, extent_slots=self.extent_slots,
            bases=self.bases, reduce=self.reduce, partials=self.partials,
            result_dtype=self.result_dtype, coarsen=self.REDUCE_COARSEN if self.reduce else 1,
        )

    # ---- dispatch ---------------------------------------------------------------------------
    def emit_block(self, block: Block) -> None:
        for op in block.ops:
            self.emit_op(op)

    @classmethod
    @cache
    def op_handlers(cls) -> dict[type[Operation], Callable[[CStyleEmitter, Operation], None]]:
        """Op class -> handler for this target: its ``@emits`` methods, else an operator
        of ``BINOPS``, else a built-in of ``FUNCS`` (built once per emitter class)."""
        table: dict[type[Operation], Callable[[CStyleEmitter, Operation], None]] = {t: cls.call for t in cls.FUNCS}
        table.update({t: cls.binary for t in cls.BINOPS})
        table.update(op_table(cls))
        return table

    def emit_op(self, op: Operation) -> None:
        handler = self.handlers.get(type(op))
        if handler is None:
            raise cannot_emit(op, self.target)
        handler(self, op)


def emit_module(module: ModuleOp, emitter: type[CStyleEmitter], max_invocations: int,
                **options: Any) -> dict[str, KernelSource]:
    """Emit every ``kern.kernel`` of ``module`` with ``emitter``, keyed by kernel name;
    ``options`` go to the emitter's constructor (driver limits, say)."""
    out: dict[str, KernelSource] = {}
    for op in module.walk():
        if isinstance(op, KernelOp):
            local = fit_local_size(emitter.LOCAL_SIZES[op.rank.value.data], max_invocations)
            out[op.kernel_name] = emitter(op, local, **options).emit()
    return out
