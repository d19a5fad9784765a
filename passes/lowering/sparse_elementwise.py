"""Lowering of ``sparse.elementwise``: NumPy broadcasting, checked at run time.

The result's size along each axis is the largest size the inputs have there; an
input whose size is 1 along an axis is stretched (its index along that axis is 0),
and any other disagreement stops the program with a located error
(``kern.check``). The op's body is isolated from above, so its ops are cloned into
the kernel as they are, with block arguments replaced by the loaded elements and
the scalar bindings.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects import arith
from xdsl.dialects.builtin import DYNAMIC_INDEX, MemRefType, TensorType
from xdsl.ir import SSAValue

from ccomp.dialects import kern, sparse
from ccomp.passes.lowering.builder import IRBuilder, KernelBuilder
from ccomp.passes.lowering.legality import keep



def _axis_size(b: IRBuilder, buf: SSAValue, axis: int, rank: int) -> SSAValue:
    """``buf``'s size along result axis ``axis`` (trailing axes aligned; 1 if missing)."""
    own = buf.type.get_num_dims()
    k = axis - (rank - own)
    return b.dim(buf, k) if k >= 0 else b.index(1)


def broadcast_shape(b: IRBuilder, inputs: Sequence[SSAValue], rank: int) -> list[SSAValue]:
    """The result sizes (``index``) of broadcasting the tensor ``inputs``, with a
    run-time check that they are compatible."""
    buffers = [v for v in inputs if isinstance(v.type, MemRefType)]
    dims = []
    for axis in range(rank):
        sizes = [_axis_size(b, buf, axis, rank) for buf in buffers]
        size = sizes[0] if sizes else b.index(1)
        for s in sizes[1:]:
            size = b.maxi(size, s)
        for s in sizes:
            ok = b.add(arith.OrIOp(b.cmpi("eq", s, size), b.cmpi("eq", s, b.index(1))))
            b.add(kern.CheckOp(ok, "shapes do not broadcast: a size {0} against {1}", [s, size]))
        dims.append(size)
    return dims


def elementwise_kernel(name: str, op: sparse.ElementwiseOp, rank: int) -> kern.KernelOp:
    """One point per result element; bindings: the op's inputs (buffers and scalars)
    in order, then the result buffer."""
    out_type = MemRefType(op.result.type.element_type, [DYNAMIC_INDEX] * rank)
    bindings = [MemRefType(v.type.element_type, [DYNAMIC_INDEX] * v.type.get_num_dims()) if isinstance(v.type, TensorType)
                else v.type for v in op.inputs]
    kb = KernelBuilder(name, rank, [*bindings, out_type], op.location)
    *ins, out = kb.args
    point = [kb.point(0)] if rank == 1 else [kb.point(1), kb.point(0)]  # NumPy order
    mapping: dict[SSAValue, SSAValue] = {}
    for arg, binding in zip(op.body.block.args, ins):
        if not isinstance(binding.type, MemRefType):
            mapping[arg] = binding
            continue
        own = binding.type.get_num_dims()
        indices = []
        for k in range(own):
            coord = point[rank - own + k]
            stretched = kb.cmpi("eq", kb.dim(binding, k), kb.index(1))
            indices.append(kb.select(stretched, kb.index(0), coord))
        mapping[arg] = kb.load(binding, *indices)
    for inner in op.body.block.ops:
        if isinstance(inner, sparse.YieldOp):
            kb.store(mapping[inner.values[0]], out, *point)
            break
        kb.insert(keep(inner, mapping, sparse.Sparse.name, "sparse-lower"))
    return kb.finish()
