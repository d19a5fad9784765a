"""A build folder tampered with as an attacker would (issue 15): every reproducer is a
real folder, loaded by the real runtime. Each must end in a clean error — a
``BuildError`` from ``read_build``, a located ``CompileError`` from a call — or, where
docs/manifest.md's trust model says an unsigned build's code runs as written, in a run
that does not crash. Never a traceback of another kind, never a hang."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects import arith
from xdsl.dialects.builtin import IndexType, IntegerAttr

import ccomp.api
from ccomp.diagnostics import CompileError
from ccomp.dialects import kern
from ccomp.runtime.build import read_build
from tamperutil import TWO_INPUTS, VEC4_TO_F32, edit, edit_host, make_build, manifest_of, refused, reseal, write_manifest

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


def launches(module) -> list[kern.LaunchOp]:
    return [op for op in module.walk() if isinstance(op, kern.LaunchOp)]


# ---- edited code, signatures ---------------------------------------------------------

@pytest.mark.parametrize("target,rel,old,new", [
    ("opencl", "kernels/g_0.cl", "2.0f", "3.0f"),
    ("llvm", "kernels.ll", "0x4000000000000000", "0x4008000000000000"),
])
def test_edited_kernel_with_a_recomputed_checksum(tmp_path, target, rel, old, new):
    make_build(tmp_path, TWO_INPUTS, target, sign_key=KEY)
    assert read_build(tmp_path, verify_key=KEY).target == target  # as written: accepted
    edit(tmp_path, rel, lambda text: text.replace(old, new))
    refused(tmp_path, "signature does not match", key=KEY)
    # unsigned use: the trust model (docs/manifest.md) runs a build's code as written —
    # it is checked for consistency and bounds, and runs without a crash
    prog = ccomp.api.load(tmp_path)
    a, b = np.ones((3, 4), np.float32), np.zeros((3, 4), np.float32)
    assert prog(a=a, b=b)[0, 0] == 3.0


def test_a_file_changed_after_signing_is_refused(tmp_path):
    make_build(tmp_path, TWO_INPUTS, "opencl", sign_key=KEY)
    cl = tmp_path / "kernels" / "g_0.cl"
    cl.write_text(cl.read_text().replace("2.0f", "5.0f"))
    refused(tmp_path, "g_0.cl does not match its checksum", "changed after signing", key=KEY)
    refused(tmp_path, "g_0.cl does not match its checksum")


def test_unsigned_or_other_key_is_refused_when_verifying(tmp_path):
    make_build(tmp_path / "unsigned", TWO_INPUTS, "glsl")
    refused(tmp_path / "unsigned", "not signed", key=KEY)
    make_build(tmp_path / "other", TWO_INPUTS, "glsl", sign_key=OTHER_KEY)
    refused(tmp_path / "other", "signature does not match", key=KEY)
    (tmp_path / "other" / "manifest.sig").write_text("rot13 abc\n")
    refused(tmp_path / "other", "scheme", key=OTHER_KEY)


# ---- launches and bindings -----------------------------------------------------------

def _huge_grid(module) -> None:
    (launch,) = launches(module)
    big = arith.ConstantOp(IntegerAttr(100000, IndexType()))
    launch.parent_block().insert_op_before(big, launch)
    for i in range(len(launch.grid)):
        launch.operands[i] = big.result


@pytest.mark.parametrize("target", ["llvm", "opencl", "glsl"])
def test_a_launch_grid_of_100000_squared_over_4x3_is_refused(tmp_path, target):
    make_build(tmp_path, TWO_INPUTS, target)
    edit_host(tmp_path, _huge_grid)
    prog = ccomp.api.load(tmp_path)  # the schedule is valid IR: refused when it runs
    a = np.ones((3, 4), np.float32)
    with pytest.raises(CompileError, match="build check: the launch of @g_0 covers 100000 points"):
        prog(a=a, b=a)


def _swap(i: int, j: int):
    def change(module) -> None:
        (launch,) = launches(module)
        args = list(launch.args)
        first = len(launch.grid)
        launch.operands[first + i], launch.operands[first + j] = args[j], args[i]
    return change


def test_swapped_bindings_of_different_types_are_refused(tmp_path):
    make_build(tmp_path, VEC4_TO_F32, "opencl")
    edit_host(tmp_path, lambda m: None)  # the untouched module round-trips
    read_build(tmp_path)
    host = tmp_path / "host.mlir"
    text = host.read_text()
    launch = next(line for line in text.splitlines() if "kern.launch" in line)
    args = launch[launch.index("(") + 1: launch.index(")")].split(", ")
    types = launch[launch.index(": (") + 3: launch.index(") ->")].split(", ")
    swapped = launch.replace(f"({args[0]}, {args[1]})", f"({args[1]}, {args[0]})") \
        .replace(f"({types[0]}, {types[1]})", f"({types[1]}, {types[0]})")
    host.write_text(text.replace(launch, swapped))
    reseal(tmp_path, "host.mlir")
    refused(tmp_path, "invalid host.mlir", "do not match the bindings")


@pytest.mark.parametrize("target", ["llvm", "opencl"])
def test_swapped_bindings_of_the_same_type_are_caught_by_sizes(tmp_path, target):
    """a is read at the launch point, b clamped: swapping them makes the launch read the
    smaller b at every point of a's grid, which the inserted check refuses."""
    make_build(tmp_path, TWO_INPUTS, target)
    edit_host(tmp_path, _swap(0, 1))
    prog = ccomp.api.load(tmp_path)
    a, b = np.ones((6, 8), np.float32), np.ones((3, 4), np.float32)
    with pytest.raises(CompileError, match="build check"):
        prog(a=a, b=b)
    # same sizes: no access out of bounds is possible, the numbers are the swapped ones
    out = prog(a=np.full((3, 4), 2, np.float32), b=np.full((3, 4), 5, np.float32))
    assert out[0, 0] == 5 * 2 + 2


@pytest.mark.parametrize("field,value", [("slot", 2), ("dim_slots", [3, 1])])
def test_moved_opencl_slots_are_refused(tmp_path, field, value):
    make_build(tmp_path, TWO_INPUTS, "opencl")
    manifest = manifest_of(tmp_path)
    manifest["kernels"][0]["bindings"][0][field] = value
    write_manifest(tmp_path, manifest)
    refused(tmp_path, "kernels[0]")


def test_moved_glsl_binding_point_is_refused(tmp_path):
    make_build(tmp_path, TWO_INPUTS, "glsl")
    manifest = manifest_of(tmp_path)
    bindings = manifest["kernels"][0]["bindings"]
    out = next(b for b in bindings if b["access"] == "write")
    out["slot"] += 7
    write_manifest(tmp_path, manifest)
    refused(tmp_path, "is not buffer")


def _negative_alloc(module) -> None:
    from xdsl.dialects import memref

    alloc = next(op for op in module.walk() if isinstance(op, memref.AllocOp))
    minus = arith.ConstantOp(IntegerAttr(-5, IndexType()))
    alloc.parent_block().insert_op_before(minus, alloc)
    alloc.operands[0] = minus.result


def test_a_negative_allocation_is_a_located_error(tmp_path):
    make_build(tmp_path, TWO_INPUTS, "opencl")
    edit_host(tmp_path, _negative_alloc)
    prog = ccomp.api.load(tmp_path)
    a = np.ones((3, 4), np.float32)
    with pytest.raises(CompileError, match="build check: an allocation of -5 elements"):
        prog(a=a, b=a)


def _dim_axis_7(module) -> None:
    from xdsl.dialects import func, memref

    fn = next(op for op in module.walk() if isinstance(op, func.FuncOp))
    dim = next(op for op in fn.walk() if isinstance(op, memref.DimOp))
    seven = arith.ConstantOp(IntegerAttr(7, IndexType()))
    dim.parent_block().insert_op_before(seven, dim)
    dim.operands[1] = seven.result


def test_a_dim_along_a_missing_axis_is_refused(tmp_path):
    make_build(tmp_path, TWO_INPUTS, "opencl")
    edit_host(tmp_path, _dim_axis_7)
    refused(tmp_path, "along axis 7")


def test_a_check_message_that_does_not_format_is_refused(tmp_path):
    spmv = "fn f(A: tensor<?x?xf32, csr>, v: tensor<?xf32>) -> tensor<?xf32> {\n    return A @ v\n}\n"
    make_build(tmp_path, spmv, "opencl")
    edit(tmp_path, "host.mlir", lambda t: t.replace('kern.check %4, "the matrix', 'kern.check %4, "{3} the matrix'))
    refused(tmp_path, "does not format")


def test_a_zero_loop_step_is_refused(tmp_path):
    heat = "graph g(u: image<f32>, n: i32 = 3) -> image<f32> {\n    return repeat n (s = u) {\n        yield s * 0.5\n    }\n}\n"
    make_build(tmp_path, heat, "glsl")

    def zero_step(module) -> None:
        from xdsl.dialects import scf
        loop = next(op for op in module.walk() if isinstance(op, scf.ForOp))
        zero = arith.ConstantOp(IntegerAttr(0, IndexType()))
        loop.parent_block().insert_op_before(zero, loop)
        loop.operands[2] = zero.result
    edit_host(tmp_path, zero_step)
    refused(tmp_path, "step must be a positive constant")


def test_a_clean_build_still_runs_on_every_target(tmp_path):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    results = []
    for target in ["llvm", "opencl", "glsl"]:
        make_build(tmp_path / target, TWO_INPUTS, target, sign_key=KEY)
        results.append(ccomp.api.Program(read_build(tmp_path / target, verify_key=KEY))(a=a, b=a))
    expected = a * 2 + a[:, [1, 2, 3, 3]]
    for r in results:
        np.testing.assert_allclose(r, expected)
