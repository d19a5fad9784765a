"""Buffer access of the C-style emitters: row-major indexing, loads, stores, dims.

A ``memref<?x?xT>`` binding is a flat array indexed ``[y, x]`` row-major, offset
``y * dim1 + x``, with the dims passed as uniforms/arguments (static dims are folded
into the source). vector<3xT> elements are stored packed (12 bytes for f32), which
neither std430 nor OpenCL's ``float3`` matches, so they are accessed per component
here (OpenCL overrides this with ``vload3``/``vstore3``). Index buffers store i64 like
the host (``ccomp.runtime.devices.base``) and convert to the in-kernel ``int`` on access.
"""

from __future__ import annotations

import re

from xdsl.dialects import arith, memref
from xdsl.ir import Attribute, Operation, SSAValue

from ccomp.backends.cstyle.types import element_of, lanes_of
from ccomp.backends.dispatch import emits
from ccomp.dialects.kern import AtomicAddOp
from ccomp.runtime.abi import Binding


class BufferOps:
    """A mixin of ``CStyleEmitter``: everything that touches a buffer binding."""

    #: ``kern.atomic_add`` as a statement over ``{ref}`` (the int element) and ``{value}``.
    ATOMIC_ADD = ""

    def buffer_of(self, v: SSAValue, op: Operation) -> Binding:
        if v not in self.buffers:
            raise self.unsupported(op, "the memref is not a kernel binding")
        return self.buffers[v]

    def dim_expr(self, b: Binding, k: int, arg: SSAValue) -> str:
        size = arg.type.get_shape()[k]
        return str(size) if size >= 0 else b.dims[k]

    def offset(self, b: Binding, arg: SSAValue, indices) -> str:
        expr = ""
        for k, index in enumerate(indices):
            i = self.name(index)
            outer = expr if re.fullmatch(r"\w+", expr) else f"({expr})"
            expr = i if k == 0 else f"{outer} * {self.dim_expr(b, k, arg)} + {i}"
        return expr or "0"

    def load(self, b: Binding, off: str, t: Attribute) -> str:
        stored = self.storage_type(element_of(t))
        if lanes_of(t) == 3:
            return self.construct(t, [f"{b.name}[{off} * 3 + {k}]" for k in range(3)])
        value = f"{b.name}[{off}]"
        return value if stored == element_of(t) else self.convert(value, stored, t)

    def store(self, b: Binding, off: str, value: str, t: Attribute) -> None:
        stored = self.storage_type(element_of(t))
        if lanes_of(t) == 3:
            for k in range(3):
                self.line(f"{b.name}[{off} * 3 + {k}] = {self.comp(value, k)};")
            return
        if stored != element_of(t):
            value = self.convert(value, t, stored)
        self.line(f"{b.name}[{off}] = {value};")

    def _offset_var(self, b: Binding, op: Operation, lanes: int) -> str:
        off = self.offset(b, op.memref, op.indices)
        if lanes == 3 and not re.fullmatch(r"\w+", off):
            n = self.fresh("off")
            self.line(f"int {n} = {off};")
            return n
        return off

    @emits(memref.LoadOp)
    def op_memref_load(self, op: memref.LoadOp) -> None:
        b = self.buffer_of(op.memref, op)
        off = self._offset_var(b, op, lanes_of(op.res.type))
        self.define(op.res, self.load(b, off, op.res.type))

    @emits(memref.StoreOp)
    def op_memref_store(self, op: memref.StoreOp) -> None:
        b = self.buffer_of(op.memref, op)
        off = self._offset_var(b, op, lanes_of(op.value.type))
        self.store(b, off, self.name(op.value), op.value.type)

    @emits(AtomicAddOp)
    def op_kern_atomic_add(self, op: AtomicAddOp) -> None:
        b = self.buffer_of(op.buffer, op)
        ref = f"{b.name}[{self.offset(b, op.buffer, op.indices)}]"
        self.line(self.ATOMIC_ADD.format(ref=ref, value=self.name(op.value)) + ";")

    @emits(memref.DimOp)
    def op_memref_dim(self, op: memref.DimOp) -> None:
        b = self.buffer_of(op.source, op)
        owner = op.index.owner
        if isinstance(owner, arith.ConstantOp):
            self.define(op.result, self.dim_expr(b, owner.value.value.data, op.source))
            return
        i = self.name(op.index)
        expr = self.dim_expr(b, 0, op.source)
        for k in range(1, len(b.dims)):
            expr = f"({i} == {k} ? {self.dim_expr(b, k, op.source)} : {expr})"
        self.define(op.result, expr)
