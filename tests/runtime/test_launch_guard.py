"""The launch guard of loaded builds (ccomp/runtime/launch_guard.py): what it reads from
kernel bodies, which launches it proves safe without a run-time check, and that a
schedule whose sizes do not follow gets its checks."""

from __future__ import annotations

import pytest

from ccomp.dialects import kern
from ccomp.dialects.context import parse_module
from ccomp.runtime.launch_guard import Cover, guard_launches, kernel_bounds

KERNEL = """
  kern.kernel @k rank 2 {
  ^bb0(%0: memref<?x?xf32>, %1: memref<?x?xf32>):
    %2 = kern.index 0
    %3 = kern.index 1
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %d = memref.dim %1, %c0 : memref<?x?xf32>
    %top = arith.subi %d, %c1 : index
    %lo = arith.maxsi %3, %c0 : index
    %y = arith.minsi %lo, %top : index
    %e = memref.dim %1, %c1 : memref<?x?xf32>
    %right = arith.subi %e, %c1 : index
    %lo2 = arith.maxsi %2, %c0 : index
    %x = arith.minsi %lo2, %right : index
    %v = memref.load %1[%y, %x] : memref<?x?xf32>
    memref.store %v, %0[%3, %2] : memref<?x?xf32>
    kern.yield
  }
"""


def host(loop_yield: str, grid: str = "%w, %h") -> str:
    """A repeat zone launching @k over its state; ``loop_yield`` is what each iteration yields."""
    return "builtin.module {" + KERNEL + f"""
  func.func @g(%a: memref<?x?xf32> {{graph.name = "a"}}) -> memref<?x?xf32> attributes {{graph.outputs = ["out"]}} {{
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %h = memref.dim %a, %c0 : memref<?x?xf32>
    %w = memref.dim %a, %c1 : memref<?x?xf32>
    %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%s = %a) -> (memref<?x?xf32>) {{
      %n = memref.alloc(%h, %w) : memref<?x?xf32>
      %small = memref.alloc(%c1, %c1) : memref<?x?xf32>
      kern.launch @k[{grid}] (%n, %s) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
      scf.yield {loop_yield} : memref<?x?xf32>
    }}
    func.return %r : memref<?x?xf32>
  }}
}}
"""


def checks(module) -> list[str]:
    return [op.message.data for op in module.walk() if isinstance(op, kern.CheckOp)]


def test_kernel_bounds_reads_launch_point_and_clamped_indices():
    module = parse_module(host("%n"))
    (k,) = [op for op in module.walk() if isinstance(op, kern.KernelOp)]
    b = kernel_bounds(k)
    assert b.covers == {Cover(0, 0, 1, 0), Cover(0, 1, 0, 0)}
    assert b.nonempty == {(1, 0), (1, 1)}
    assert b.unchecked == set()


def test_a_state_that_keeps_its_shape_needs_no_check():
    """Each iteration yields a buffer allocated at the input's size: by induction the
    state always has that size, the grid is the output's own size, nothing is checked."""
    module = parse_module(host("%n"))
    guard_launches(module)
    assert checks(module) == []


def test_a_state_that_changes_shape_is_checked():
    """The state becomes 1x1 after one iteration: the clamped reads of it are proven by
    nothing, so they are checked (the induction hypothesis is dropped, not kept)."""
    module = parse_module(host("%small"))
    guard_launches(module)
    found = checks(module)
    assert len(found) == 2 and all("reads its binding 1, which is empty" in m for m in found)


@pytest.mark.parametrize("grid", ["%h, %w", "%c4, %c4"])
def test_a_grid_that_is_not_the_output_size_is_checked(grid):
    module = parse_module(host("%n", grid))
    guard_launches(module)
    found = checks(module)
    assert sum("covers {0} points" in m for m in found) == 2


def test_data_indexed_buffers_are_reported_unchecked():
    from tamperutil import make_build  # noqa: F401 — the helpers' folder is on sys.path
    import ccomp.api
    from ccomp.diagnostics import Source

    text = "fn f(A: tensor<?x?xf32, csr>, v: tensor<?xf32>) -> tensor<?xf32> {\n    return A @ v\n}\n"
    build = ccomp.api.build_program(Source(text, "s.cn"), "opencl")
    (k,) = [op for op in build.module.walk() if isinstance(op, kern.KernelOp)]
    b = kernel_bounds(k)
    assert b.unchecked  # the column index and values, read at positions taken from indptr
    assert any(c.arg == 0 and c.offset == 1 for c in b.covers)  # indptr[i + 1]
