"""Splitting one launch of a data-parallel kernel between two devices
(``partition-devices``): which kernels may be split, and the rewrite.

A kernel may be split when its points are independent and each writes only itself:
not a reduction, no ``kern.atomic_add``, every ``memref.store`` at exactly the point's
own index (``[index rank-1, ..., index 0]``), and no buffer both read and written.
Then the index space cut along its outermost dimension into two bands of rows
computes the same values as the whole, whatever device runs each band.

The rewrite makes ``@k_part_<device>`` for each band: ``@k`` with two more ``i32`` bindings, the band's first
row and the full extent, where ``kern.index`` and ``kern.extent`` of the outermost
dimension read ``index + first`` and the full extent. The launch becomes two launches,
one of each part: rows ``[0, r)`` and ``[r, n)`` with ``r = n * share / 1024``, so the
parts cover the index space exactly once for any ``n``.
"""

from __future__ import annotations

from xdsl.dialects import arith, memref
from xdsl.dialects.builtin import ArrayAttr, IntegerAttr, StringAttr, i32, i64
from xdsl.ir import Block, SSAValue
from xdsl.rewriter import InsertPoint

from ccomp.dialects import kern
from ccomp.passes.lowering.builder import IRBuilder

SHARE_UNITS = 1024  # a band's share of the rows is counted in 1024ths


def splittable(kernel: kern.KernelOp) -> bool:
    """Whether ``kernel``'s points may run as bands on different devices (see above)."""
    rank = kernel.rank.value.data
    if kernel.reduce is not None or rank < 2:
        return False
    indices: dict[int, SSAValue] = {}
    for op in kernel.walk():
        if isinstance(op, kern.AtomicAddOp):
            return False
        if isinstance(op, kern.IndexOp):
            indices.setdefault(op.dim.value.data, op.result)
    loaded = {op.memref for op in kernel.walk() if isinstance(op, memref.LoadOp)}
    stores = [op for op in kernel.walk() if isinstance(op, memref.StoreOp)]
    if not stores:
        return False
    own = [indices.get(d) for d in reversed(range(rank))]
    for op in stores:
        if op.memref in loaded or list(op.indices) != own or op.parent_op() is not kernel:
            return False
    return True


def part_kernel(kernel: kern.KernelOp, device: str) -> kern.KernelOp:
    """``@k_part_<device>`` (see the module docstring), inserted after ``kernel``: one
    per band, so each device loads and launches a kernel of its own name."""
    part = kernel.clone()
    part.sym_name = StringAttr(f"{kernel.kernel_name}_part_{device}")
    block: Block = part.body.block
    first = block.insert_arg(i32, len(block.args))
    extent = block.insert_arg(i32, len(block.args))
    outer = kernel.rank.value.data - 1
    entry = IRBuilder(InsertPoint.at_start(block), location=kernel.location)
    first_index, extent_index = entry.to_index(first), entry.to_index(extent)
    for op in list(block.walk()):
        if isinstance(op, kern.IndexOp) and op.dim.value.data == outer:
            moved = arith.AddiOp(op.result, first_index)
            block.insert_op_after(moved, op)
            op.result.replace_uses_with_if(moved.result, lambda use: use.operation is not moved)
        elif isinstance(op, kern.ExtentOp) and op.dim.value.data == outer:
            op.result.replace_all_uses_with(extent_index)
            op.detach()
            op.erase()
    parent = kernel.parent_block()
    assert parent is not None
    parent.insert_op_after(part, kernel)
    return part


def split_launch(launch: kern.LaunchOp, parts: tuple[kern.KernelOp, kern.KernelOp], share: int,
                 devices: tuple[str, str]) -> tuple[kern.LaunchOp, kern.LaunchOp]:
    """Replace ``launch`` by a launch of each of ``parts``: ``share``/1024 of the rows
    on ``devices[0]``, the rest on ``devices[1]``."""
    b = IRBuilder(InsertPoint.before(launch), location=launch.location)
    grid = list(launch.grid)
    rows = grid[-1]
    first_rows = b.divi(b.muli(rows, b.index(share)), b.index(SHARE_UNITS))
    rest = b.subi(rows, first_rows)
    height = b.to_i32(rows)
    args = list(launch.args)
    n = len(args)
    launches = []
    bands = ((devices[0], b.i32(0), first_rows), (devices[1], b.to_i32(first_rows), rest))
    for part, (device, start, count) in zip(parts, bands):
        op = kern.LaunchOp(part.kernel_name, [*grid[:-1], count], [*args, start, height])
        op.attributes["device"] = StringAttr(device)
        op.attributes["part"] = ArrayAttr([IntegerAttr(n, i64), IntegerAttr(n + 1, i64)])
        b.add(op)
        launches.append(op)
    launch.detach()
    launch.erase()
    return launches[0], launches[1]


__all__ = ["SHARE_UNITS", "part_kernel", "split_launch", "splittable"]
