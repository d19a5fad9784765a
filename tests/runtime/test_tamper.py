"""A build folder tampered with as an attacker would (issue 15): every reproducer is a
real folder, loaded by the real runtime. Each must end in a clean error — a
``BuildError`` from ``read_build``, a located ``CompileError`` from a call — or, where
docs/manifest.md's trust model says an unsigned build's code runs as written, in a run
that does not crash. Never a traceback of another kind, never a hang."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects import arith
from xdsl.dialects.builtin import IndexType, IntegerAttr

import ccomp.api
from ccomp.diagnostics import CompileError
from ccomp.dialects import kern
from ccomp.runtime.build import BuildError, read_build
from tamperutil import TWO_INPUTS, VEC4_TO_F32, edit, edit_host, make_build, manifest_of, reseal, write_manifest

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


def launches(module) -> list[kern.LaunchOp]:
    return [op for op in module.walk() if isinstance(op, kern.LaunchOp)]


def refused(folder: Path, *fragments: str, key: bytes | None = None) -> str:
    """Loading ``folder`` raises ``BuildError`` (nothing else) naming ``fragments``."""
    with pytest.raises(BuildError) as info:
        read_build(folder, verify_key=key)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


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


# ---- paths and files -----------------------------------------------------------------

@pytest.mark.parametrize("name", ["../outside.cl", "/etc/passwd", "kernels/../../x", "/dev/zero", "./program.cn",
                                  "a\\b", "kernels//x"])
def test_files_outside_the_folder_are_refused(tmp_path, name):
    folder = tmp_path / "b"
    make_build(folder, TWO_INPUTS, "opencl")
    (tmp_path / "outside.cl").write_text("secret")
    manifest = manifest_of(folder)
    manifest["files"][name] = "0" * 64
    write_manifest(folder, manifest)
    refused(folder, "refused: files")


@pytest.mark.parametrize("rel,target", [("kernels/g_0.cl", "opencl"), ("kernels.ll", "llvm"), ("program.cn", "glsl")])
@pytest.mark.parametrize("to", ["/etc/passwd", "/dev/zero", "outside"])
def test_symlinks_out_of_the_folder_are_refused(tmp_path, rel, target, to):
    folder = tmp_path / "b"
    make_build(folder, TWO_INPUTS, target)
    (tmp_path / "outside").write_text((folder / rel).read_text())
    (folder / rel).unlink()
    (folder / rel).symlink_to(tmp_path / "outside" if to == "outside" else to)
    refused(folder, "symbolic link")


def test_a_symlinked_kernels_folder_is_refused(tmp_path):
    folder = tmp_path / "b"
    make_build(folder, TWO_INPUTS, "opencl")
    (folder / "kernels").rename(tmp_path / "elsewhere")
    (folder / "kernels").symlink_to(tmp_path / "elsewhere")
    refused(folder, "symbolic link")


def _within(seconds: float, fn) -> object:
    """``fn()``'s result or exception, failing the test if it takes longer than ``seconds``
    (a daemon thread: a hang cannot stop the test run)."""
    box: dict[str, object] = {}

    def work():
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 — handed back to the test
            box["error"] = exc
    t = threading.Thread(target=work, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still running after {seconds} s: a hang"
    return box


@pytest.mark.parametrize("kind", ["fifo", "devzero", "directory", "huge"])
def test_special_files_listed_do_not_hang_or_exhaust_memory(tmp_path, kind):
    folder = tmp_path / "b"
    make_build(folder, TWO_INPUTS, "opencl")
    path = folder / "kernels" / "g_0.cl"
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "devzero":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    else:
        with open(path, "wb") as f:  # sparse: 300 MB on paper, nothing on disk
            f.truncate(300 << 20)
    box = _within(20, lambda: read_build(folder))
    assert isinstance(box.get("error"), BuildError), box
    assert "g_0.cl" in str(box["error"])


# ---- malformed manifests -------------------------------------------------------------

def _deep(n: int):
    value: list = []
    for _ in range(n):
        value = [value]
    return value


MUTATIONS = {
    **{f"missing {key}": (lambda m, key=key: m.pop(key)) for key in
       ["format", "version", "target", "graph", "source", "inputs", "kernels", "schedule", "files"]},
    "kernels is a string": lambda m: m.update(kernels="x"),
    "files is a list": lambda m: m.update(files=[]),
    "files maps to numbers": lambda m: m["files"].update({"program.cn": 7}),
    "bindings missing": lambda m: m["kernels"][0].pop("bindings"),
    "binding is null": lambda m: m["kernels"][0]["bindings"].__setitem__(0, None),
    "dims not a list": lambda m: m["kernels"][0]["bindings"][0].update(dims=5),
    "zero local size": lambda m: m["kernels"][0].update(local_size=[0]),
    "zero rank": lambda m: m["kernels"][0].update(rank=0),
    "zero coarsen": lambda m: m["kernels"][0].update(coarsen=0),
    "huge local size": lambda m: m["kernels"][0].update(local_size=[1 << 40]),
    "wrong rank": lambda m: m["kernels"][0].update(rank=3),
    "version as text": lambda m: m.update(version="2"),
    "unknown target": lambda m: m.update(target="cuda"),
    "graph not defined": lambda m: m.update(graph="nothere"),
    "line not a number": lambda m: m["inputs"][0].update(line="one"),
    "deep schedule": lambda m: m.update(schedule=_deep(100)),
    "very deep schedule": lambda m: None,
    "deep nested steps": lambda m: m.update(schedule=[{"op": "for", "body": _deep(60)}]),
    "kernel listed twice": lambda m: m["kernels"].append(m["kernels"][0]),
    "kernel file unlisted": lambda m: m["kernels"][0].update(file="kernels/none.cl"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_malformed_manifests_are_clean_errors(tmp_path, mutation):
    make_build(tmp_path, TWO_INPUTS, "opencl")
    manifest = manifest_of(tmp_path)
    MUTATIONS[mutation](manifest)
    if mutation == "very deep schedule":  # past what json.dumps itself can write
        text = json.dumps({**manifest, "schedule": None}).replace('"schedule": null', '"schedule": ' + "[" * 100000 + "]" * 100000)
        (tmp_path / "manifest.json").write_text(text)
    else:
        write_manifest(tmp_path, manifest)
    refused(tmp_path)


def test_a_parameter_line_past_the_program_is_dropped_not_trusted(tmp_path):
    make_build(tmp_path, TWO_INPUTS, "opencl")
    manifest = manifest_of(tmp_path)
    manifest["inputs"][0].update(line=10**9)
    write_manifest(tmp_path, manifest)
    assert "a" not in read_build(tmp_path).param_locs


@pytest.mark.parametrize("data", [b"", b"not json", b"\xff\xfe", b"null", b"{}", b"[]", b'{"format": "ccomp-build"}'])
def test_garbage_manifests_are_clean_errors(tmp_path, data):
    make_build(tmp_path, TWO_INPUTS, "opencl")
    (tmp_path / "manifest.json").write_bytes(data)
    refused(tmp_path)


def test_host_mlir_that_does_not_parse_is_a_clean_error(tmp_path):
    make_build(tmp_path, TWO_INPUTS, "llvm")
    edit(tmp_path, "host.mlir", lambda t: t.replace("kern.launch", "kern.lunch"))
    refused(tmp_path, "invalid host.mlir")
    edit(tmp_path, "host.mlir", lambda t: "(" * 50000)
    refused(tmp_path)


def test_llvm_module_that_does_not_parse_is_a_clean_error(tmp_path):
    make_build(tmp_path, TWO_INPUTS, "llvm")
    edit(tmp_path, "kernels.ll", lambda t: t + "\ngarbage\n")
    refused(tmp_path, "not valid LLVM IR")


def test_llvm_module_calling_a_missing_function_is_a_clean_error(tmp_path):
    make_build(tmp_path, TWO_INPUTS, "llvm")
    edit(tmp_path, "kernels.ll", lambda t: t + "\ndeclare void @ccomp_no_such_symbol()\n"
         "define void @ccomp_caller() {\n  call void @ccomp_no_such_symbol()\n  ret void\n}\n")
    refused(tmp_path, "ccomp_no_such_symbol")


def test_a_clean_build_still_runs_on_every_target(tmp_path):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    results = []
    for target in ["llvm", "opencl", "glsl"]:
        make_build(tmp_path / target, TWO_INPUTS, target, sign_key=KEY)
        results.append(ccomp.api.Program(read_build(tmp_path / target, verify_key=KEY))(a=a, b=a))
    expected = a * 2 + a[:, [1, 2, 3, 3]]
    for r in results:
        np.testing.assert_allclose(r, expected)
