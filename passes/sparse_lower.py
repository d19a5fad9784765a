"""``sparse-lower``: tensor programs (``sparse`` dialect) become kernels and a host schedule.

Each function over tensors keeps its name; its tensors become buffers. A dense
tensor is one ``memref``; a sparse matrix becomes its storage buffers (see
:mod:`ccomp.passes.lowering.sparse_kernels`) plus three ``i32`` scalars — rows, columns and
the stored-entry count (blocks, for bsr) — so a parameter ``A: csr`` becomes the
arguments ``indptr, indices, data, rows, cols, nnz``, each tagged
``{graph.name = "A", sparse.format = "csr", sparse.part = ...}`` for the runtime.
Results are expanded the same way.

Every op becomes launches of format-specific kernels; sizes only known at run time
are checked by ``kern.check`` in the host schedule, at the location of the ``.cn``
expression that needs them. Conversions between two sparse formats go through a
dense matrix (in-program conversions are rare; inputs are converted by the runtime
in O(nnz)). Run ``sparse-select-format`` first: ``auto`` must be resolved. No
``sparse`` op is left afterwards (a located internal error otherwise).
"""


from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from xdsl.context import Context
from xdsl.dialects import func, memref
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, ModuleOp, TensorType, i32

from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from ccomp.diagnostics import PassError
from ccomp.dialects import graph, kern, loop, ports, sparse
from ccomp.dialects.sparse_format import FormatAttr, format_of
from ccomp.passes.lowering import sparse_kernels as sk
from ccomp.passes.lowering import sparse_pack as pack
from ccomp.passes.lowering.builder import IRBuilder
from ccomp.passes.lowering.functions import KernelNames, OpTable, lower_functions
from ccomp.passes.lowering.sparse_elementwise import broadcast_shape, elementwise_kernel
from ccomp.passes.lowering.sparse_values import Matrix, expand_arguments, expanded_types, memref_of, tagged


class FunctionLowering(OpTable):

    """Lowers one tensor function; ``kernels`` collects the kernels it launches. Ops go
    through ``HANDLERS`` (:class:`~ccomp.passes.lowering.functions.OpTable`)."""

    DIALECT = sparse.Sparse.name
    PASS = "sparse-lower"

    def __init__(self, fn: func.FuncOp, names: KernelNames):
        self.fn, self.names = fn, names
        self.kernels: list[kern.KernelOp] = []
        self.cache: dict[tuple, str] = {}
        self.mapping: dict[SSAValue, SSAValue | Matrix] = {}

    # ----- kernels ----------------------------------------------------------------------
    def kernel(self, key: tuple, make) -> str:
        """The name of the kernel for ``key``, built by ``make(name)`` on first use."""
        if key not in self.cache:
            name = self.names.fresh(self.fn.sym_name.data, len(self.kernels))
            self.kernels.append(make(name))
            self.cache[key] = name
        return self.cache[key]

    def launch(self, b: IRBuilder, name: str, grid: list[SSAValue], args: list[SSAValue],
               result: Attribute | None = None) -> SSAValue | None:
        return b.add(kern.LaunchOp(name, grid, args, [result] if result is not None else []))

    def check_equal(self, b: IRBuilder, a: SSAValue, c: SSAValue, message: str) -> None:
        b.add(kern.CheckOp(b.cmpi("eq", a, c), message, [a, c]))

    # ----- values -----------------------------------------------------------------------
    def matrix(self, b: IRBuilder, v: SSAValue) -> Matrix:
        got = self.mapping[v]
        if isinstance(got, Matrix):
            return got
        return Matrix(None, [got], b.dim(got, 0), b.dim(got, 1))

    def extra(self, m: Matrix, b: IRBuilder) -> list[SSAValue]:
        """Scalar bindings a kernel over ``m`` takes after its buffers: coo's entry count."""
        return [b.to_i32(m.nnz)] if sk.kind(m.fmt) == "coo" else []

    # ----- the function -------------------------------------------------------------------
    def lower(self) -> func.FuncOp:
        for o in self.fn.walk():  # the function itself first: its parameters are where 'auto' is allowed
            values = o.body.block.args if o is self.fn else o.results
            for v in values:
                f = format_of(v.type)
                if f is not None and f.kind.data == "auto":
                    raise PassError(o, "sparse-lower needs sparse-select-format to resolve 'auto' first")
        old = self.fn.body.block

        arg_attrs = self.fn.arg_attrs.data if self.fn.arg_attrs else [DictionaryAttr({})] * len(old.args)
        block, attrs, mapping = expand_arguments(old.args, arg_attrs, self.fn.location)
        self.mapping.update(mapping)
        self.block = block
        for op in old.ops:
            self.lower_op(op, IRBuilder.at_end(block, op.location))
        out_types, out_attrs = [], []
        names = ports.output_names(self.fn) or []
        declared = ports.result_ports(self.fn)  # a result's graph.shape (its static size) stays
        for k, t in enumerate(self.fn.function_type.outputs):
            name = names[k] if k < len(names) else f"out{k}"
            base = declared[k] if ports.port_name(declared[k]) == name else DictionaryAttr(ports.port_attrs(name))
            for part, pt in expanded_types(t):
                out_types.append(pt)
                out_attrs.append(tagged(base, format_of(t), part, isinstance(t, TensorType)))
        new_fn = func.FuncOp(self.fn.sym_name.data, (block.arg_types, out_types), Region(block),
                             arg_attrs=ArrayAttr(attrs), res_attrs=ArrayAttr(out_attrs))
        new_fn.attributes.update(self.fn.attributes)
        new_fn.location = self.fn.location
        return new_fn

    def values(self, v: SSAValue, b: IRBuilder) -> list[SSAValue]:
        got = self.mapping[v]
        if isinstance(got, Matrix):
            return got.parts + [b.to_i32(got.rows), b.to_i32(got.cols), b.to_i32(got.nnz)]
        return [got]


    # ----- ops ----------------------------------------------------------------------------
    def op_func_return(self, op: func.ReturnOp, b: IRBuilder) -> None:
        b.add(func.ReturnOp(*[x for v in op.operands for x in self.values(v, b)]))

    def op_sparse_dim(self, op: sparse.DimOp, b: IRBuilder) -> None:
        axis = op.dim.value.data
        got = self.mapping[op.source]
        size = (got.rows, got.cols)[axis] if isinstance(got, Matrix) else b.dim(got, axis)
        self.mapping[op.result] = b.to_i32(size)

    def op_sparse_nnz(self, op: sparse.NnzOp, b: IRBuilder) -> None:
        m = self.matrix(b, op.source) if op.source.type.get_num_dims() == 2 else None
        if m is None or m.fmt is None:
            buf = self.mapping[op.source] if m is None else m.parts[0]
            rank, elem = buf.type.get_num_dims(), buf.type.element_type
            name = self.kernel(("nnz", rank, elem), lambda n: sk.nnz_kernel(n, None, op.location, rank, elem))
            grid = [b.dim(buf, 0)] if rank == 1 else [b.dim(buf, 1), b.dim(buf, 0)]
            self.mapping[op.result] = self.launch(b, name, grid, [buf], i32)
            return
        stored = m.nnz if m.fmt.block is None else b.muli(m.nnz, b.index(m.fmt.block[0] * m.fmt.block[1]))
        elem = m.parts[-1].type.element_type
        name = self.kernel(("nnz", "sparse", elem), lambda n: sk.nnz_kernel(n, m.fmt, op.location, elem=elem))
        grid = b.maxi(stored, b.index(1))
        self.mapping[op.result] = self.launch(b, name, [grid], [m.parts[-1], b.to_i32(stored)], i32)

    def op_sparse_fill(self, op: sparse.FillOp, b: IRBuilder) -> None:
        given = [self.mapping[s] for s in op.sizes]
        for g in given:
            b.add(kern.CheckOp(b.cmpi("sgt", g, b.i32(0)), "fill needs sizes of at least 1, got {0}", [g]))
        sizes = [b.to_index(g) for g in given]
        out = b.add(memref.AllocOp(sizes, [], memref_of(op.result.type)))
        elem = op.value.type
        name = self.kernel(("fill", len(sizes), elem), lambda n: sk.fill_kernel(n, len(sizes), op.location, elem))
        self.launch(b, name, list(reversed(sizes)), [out, self.mapping[op.value]])
        self.mapping[op.result] = out

    def op_sparse_reduce(self, op: sparse.ReduceOp, b: IRBuilder) -> None:
        src = self.mapping[op.source]
        rank, elem = src.type.get_num_dims(), src.type.element_type
        name = self.kernel(("reduce", op.kind.data, rank, elem),
                           lambda n: sk.reduce_kernel(n, op.kind.data, rank, op.location, elem))
        grid = [b.dim(src, 0)] if rank == 1 else [b.dim(src, 1), b.dim(src, 0)]
        self.mapping[op.result] = self.launch(b, name, grid, [src], op.result.type)

    def op_sparse_matvec(self, op: sparse.MatVecOp, b: IRBuilder) -> None:
        m, x = self.matrix(b, op.lhs), self.mapping[op.rhs]
        self.check_equal(b, m.cols, b.dim(x, 0), "the matrix has {0} columns but the vector has {1} elements")
        y = b.add(memref.AllocOp([m.rows], [], memref_of(op.result.type)))
        elem = x.type.element_type
        name = self.kernel(("matvec", m.fmt, elem), lambda n: sk.matvec_kernel(n, m.fmt, op.location, elem))
        grid = b.index(1) if sk.kind(m.fmt) == "csc" else m.rows
        self.launch(b, name, [grid], [*m.parts, x, y, *self.extra(m, b)])
        self.mapping[op.result] = y

    def op_sparse_matmul(self, op: sparse.MatMulOp, b: IRBuilder) -> None:
        m, rhs = self.matrix(b, op.lhs), self.mapping[op.rhs]
        self.check_equal(b, m.cols, b.dim(rhs, 0), "the left matrix has {0} columns but the right one has {1} rows")
        out = b.add(memref.AllocOp([m.rows, b.dim(rhs, 1)], [], memref_of(op.result.type)))
        elem = rhs.type.element_type
        name = self.kernel(("matmul", m.fmt, elem), lambda n: sk.matmul_kernel(n, m.fmt, op.location, elem))
        grid = b.index(1) if sk.kind(m.fmt) == "csc" else m.rows
        self.launch(b, name, [grid], [*m.parts, rhs, out, *self.extra(m, b)])
        self.mapping[op.result] = out

    def op_sparse_convert(self, op: sparse.ConvertOp, b: IRBuilder) -> None:
        src, dst = format_of(op.source.type), format_of(op.result.type)
        value = self.mapping[op.source]
        if src != dst:
            if src is not None:
                value = self.to_dense(self.matrix(b, op.source), b, op)
            if dst is not None:
                value = self.pack(value, dst, b, op)
        self.mapping[op.result] = value

    def to_dense(self, m: Matrix, b: IRBuilder, op: Operation) -> SSAValue:
        elem = m.parts[-1].type.element_type
        dense = b.add(memref.AllocOp([m.rows, m.cols], [], sk.mat_of(elem)))
        fill = self.kernel(("fill", 2, elem), lambda n: sk.fill_kernel(n, 2, op.location, elem))
        self.launch(b, fill, [m.cols, m.rows], [dense, sk.zero(b, elem)])
        name = self.kernel(("to_dense", m.fmt, elem), lambda n: sk.to_dense_kernel(n, m.fmt, op.location, elem))
        grid = m.cols if sk.kind(m.fmt) == "csc" else m.rows
        self.launch(b, name, [grid], [*m.parts, dense, *self.extra(m, b)])
        return dense

    def pack(self, dense: SSAValue, fmt: FormatAttr, b: IRBuilder, op: Operation) -> Matrix:
        slices = pack.slice_count(b, dense, fmt)
        counts = b.add(memref.AllocOp([slices], [], sk.IDX))
        elem = dense.type.element_type
        count = self.kernel(("count", fmt, elem), lambda n: pack.count_kernel(n, fmt, op.location, elem))
        self.launch(b, count, [slices], [dense, counts])
        ptr = b.add(memref.AllocOp([b.addi(slices, b.index(1))], [], sk.IDX))
        self.launch(b, self.kernel(("scan",), lambda n: sk.scan_kernel(n, op.location)), [b.index(1)], [counts, ptr])
        last = self.kernel(("last",), lambda n: sk.read_last_kernel(n, op.location))
        total = b.to_index(self.launch(b, last, [b.index(1)], [ptr], i32))
        size = b.maxi(total, b.index(1))  # never a zero-size buffer
        values = size if fmt.block is None else b.muli(size, b.index(fmt.block[0] * fmt.block[1]))
        if fmt.kind.data == "coo":
            outs = [b.add(memref.AllocOp([size], [], sk.IDX)) for _ in range(2)]
        else:
            outs = [b.add(memref.AllocOp([size], [], sk.IDX))]
        outs.append(b.add(memref.AllocOp([values], [], sk.vec_of(elem))))
        emit = self.kernel(("emit", fmt, elem), lambda n: pack.emit_kernel(n, fmt, op.location, elem))
        self.launch(b, emit, [slices], [dense, ptr, *outs])
        parts = outs if fmt.kind.data == "coo" else [ptr, *outs]
        return Matrix(fmt, parts, b.dim(dense, 0), b.dim(dense, 1), total)

    def op_sparse_elementwise(self, op: sparse.ElementwiseOp, b: IRBuilder) -> None:
        inputs = [self.mapping[v] for v in op.inputs]
        rank = op.result.type.get_num_dims()
        dims = broadcast_shape(b, inputs, rank)
        out = b.add(memref.AllocOp(dims, [], memref_of(op.result.type)))
        key = ("elementwise", id(op))
        name = self.kernel(key, lambda n: elementwise_kernel(n, op, rank))
        self.launch(b, name, list(reversed(dims)), [*inputs, out])
        self.mapping[op.result] = out

    def op_loop_repeat(self, op: loop.RepeatOp, b: IRBuilder) -> None:
        old = op.body.block
        for t in old.arg_types:
            if format_of(t) is not None:
                raise PassError(op, "repeat state must be dense (the frontend checks this)", internal=True)

        body = Block(arg_types=[expanded_types(t)[0][1] for t in old.arg_types])
        for o, n in zip(old.args, body.args):
            self.mapping[o] = n
            n.name_hint = o.name_hint
        for inner in old.ops:
            self.lower_op(inner, IRBuilder.at_end(body, inner.location))
        new = loop.RepeatOp(self.mapping[op.count], [self.mapping[v] for v in op.inits], Region(body),
                            [expanded_types(r.type)[0][1] for r in op.res])
        b.add(new)
        for o, n in zip(op.res, new.res):
            self.mapping[o] = n

    def op_loop_yield(self, op: loop.YieldOp, b: IRBuilder) -> None:
        b.add(loop.YieldOp([self.mapping[v] for v in op.values]))

    HANDLERS: ClassVar[dict[type[Operation], Callable[[FunctionLowering, Any, IRBuilder], None]]] = {
        func.ReturnOp: op_func_return,
        sparse.DimOp: op_sparse_dim,
        sparse.NnzOp: op_sparse_nnz,
        sparse.FillOp: op_sparse_fill,
        sparse.ReduceOp: op_sparse_reduce,
        sparse.MatVecOp: op_sparse_matvec,
        sparse.MatMulOp: op_sparse_matmul,
        sparse.ConvertOp: op_sparse_convert,
        sparse.ElementwiseOp: op_sparse_elementwise,
        loop.RepeatOp: op_loop_repeat,
        loop.YieldOp: op_loop_yield,
    }


def uses_tensors(fn: func.FuncOp) -> bool:
    """A ``fn`` program; a graph (any ``graph`` op) may return a histogram's tensor,
    which graph-to-kern lowers."""
    if any(o.dialect_name() == graph.Graph.name for o in fn.walk()):
        return False
    types = [*fn.function_type.inputs, *fn.function_type.outputs]
    return any(isinstance(t, TensorType) for t in types) or any(
        o.dialect_name() == sparse.Sparse.name for o in fn.walk())


@dataclass(frozen=True)
class SparseLowerPass(ModulePass):
    """Lower every tensor function to kernels plus a host schedule; no ``sparse`` op is
    left (a located internal error otherwise)."""

    name = "sparse-lower"
    lowering: ClassVar[type[FunctionLowering]] = FunctionLowering

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        lower_functions(op, self.lowering, uses_tensors, sparse.Sparse.name, self.name)



