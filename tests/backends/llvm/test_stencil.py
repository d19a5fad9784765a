"""Clamped neighbour reads: the interior/border split must not change results, for any
image shape (including images with no interior at all) and any spelling of the clamp,
and the tonemap-like kernel must be vectorised."""

from __future__ import annotations

import re

import numpy as np
import pytest
from llvm_testutil import f32, run_kernel
from llvm_tonemap import TONEMAP_IR, tonemap_numpy

from ccomp.backends.llvm.emitter import PURE_OPS
from ccomp.backends.llvm.interior import plan_body
from ccomp.backends.llvm.lower import emit_llvm_ir
from ccomp.api import prepare
from ccomp.dialects.context import parse_module

CLAMPS = {
    # name -> (x clamp lines producing %xx{i} from %xo{i}) as a template over i
    "max-then-min": "%xl{i} = arith.maxsi %xo{i}, %c0 : index\n  %xx{i} = arith.minsi %xl{i}, %wm1 : index",
    "min-then-max": "%xl{i} = arith.minsi %xo{i}, %wm1 : index\n  %xx{i} = arith.maxsi %xl{i}, %c0 : index",
    "swapped-operands": "%xl{i} = arith.maxsi %c0, %xo{i} : index\n  %xx{i} = arith.minsi %wm1, %xl{i} : index",
}


def blur_ir(t: str, clamp: str, radius: int = 1) -> str:
    """A (2r+1)x(2r+1) box sum over ``memref<?x?xT>`` with clamped reads, written out tap by tap."""
    taps = range(-radius, radius + 1)
    lines = []
    for j, dy in enumerate(taps):
        lines += [f"%yo{j} = arith.addi %y, %k{dy + radius} : index",
                  f"%yl{j} = arith.maxsi %yo{j}, %c0 : index",
                  f"%yy{j} = arith.minsi %yl{j}, %hm1 : index"]
    for i, dx in enumerate(taps):
        # negative offsets as subi, positive as addi with the index first or second
        if dx < 0:
            lines.append(f"%xo{i} = arith.subi %x, %k{-dx + radius} : index")
        elif dx % 2:
            lines.append(f"%xo{i} = arith.addi %k{dx + radius}, %x : index")
        else:
            lines.append(f"%xo{i} = arith.addi %x, %k{dx + radius} : index")
        lines.append(CLAMPS[clamp].format(i=i))
    acc = "%zero"
    for j in range(len(taps)):
        for i in range(len(taps)):
            lines += [f"%t{j}_{i} = memref.load %src[%yy{j}, %xx{i}] : memref<?x?x{t}>",
                      f"%s{j}_{i} = arith.addf {acc}, %t{j}_{i} : {t}"]
            acc = f"%s{j}_{i}"
    consts = "\n  ".join(f"%k{d + radius} = arith.constant {d} : index" for d in range(-radius, radius + 1))
    zero = "dense<0.0>" if t.startswith("vector") else "0.0"
    body = "\n  ".join(lines)
    return f"""
kern.kernel @blur rank 2 {{
^bb0(%src: memref<?x?x{t}>, %out: memref<?x?x{t}>):
  %x = kern.index 0
  %y = kern.index 1
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  {consts}
  %h = memref.dim %src, %c0 : memref<?x?x{t}>
  %w = memref.dim %src, %c1 : memref<?x?x{t}>
  %hm1 = arith.subi %h, %c1 : index
  %wm1 = arith.subi %w, %c1 : index
  %zero = arith.constant {zero} : {t}
  {body}
  memref.store {acc}, %out[%y, %x] : memref<?x?x{t}>
  kern.yield
}}
"""


FRONTEND_STYLE = """
kern.kernel @k rank 2 {{
^bb0(%src: memref<?x?xvector<4xf32>>, %out: memref<?x?xvector<4xf32>>):
  %x = kern.index 0
  %y = kern.index 1
  %x32 = arith.index_cast %x : index to i32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %w = memref.dim %src, %c1 : memref<?x?xvector<4xf32>>
  %wm1 = arith.subi %w, %c1 : index
  %left = arith.constant {left} : i32
  %right = arith.constant {right} : i32
  %xl32 = arith.addi %x32, %left : i32
  %xr32 = arith.addi %x32, %right : i32
  %xl = arith.index_cast %xl32 : i32 to index
  %xr = arith.index_cast %xr32 : i32 to index
  %xl0 = arith.maxsi %xl, %c0 : index
  %xlc = arith.minsi %xl0, %wm1 : index
  %xr0 = arith.maxsi %xr, %c0 : index
  %xrc = arith.minsi %xr0, %wm1 : index
  %a = memref.load %src[%y, %xlc] : memref<?x?xvector<4xf32>>
  %b = memref.load %src[%y, %xrc] : memref<?x?xvector<4xf32>>
  %s = arith.addf %a, %b : vector<4xf32>
  memref.store %s, %out[%y, %x] : memref<?x?xvector<4xf32>>
  kern.yield
}}
"""


@pytest.mark.parametrize("left,right", [(-1, 1), (-3, 2), (2147483000, -2147483000)])
def test_clamps_of_i32_coordinates(device, left, right):
    """Coordinates computed in i32 then cast to index (as the frontend emits them) get
    the interior split too; where the i32 sum wraps, the interior excludes it."""
    text = FRONTEND_STYLE.format(left=left, right=right)
    plan = plan_body(parse_module(text).body.block.first_op.body.block, set(PURE_OPS))
    assert len(plan.clamps) == 4
    src = f32(5, 1000, 4)
    out = np.zeros_like(src)
    run_kernel(device, text, "k", (1000, 5), [src, out])
    x = np.arange(1000, dtype=np.int32)
    with np.errstate(over="ignore"):
        xl, xr = np.clip(x + np.int32(left), 0, 999), np.clip(x + np.int32(right), 0, 999)
    np.testing.assert_array_equal(out, src[:, xl] + src[:, xr])


def blur_numpy(src: np.ndarray, radius: int) -> np.ndarray:
    h, w = src.shape[:2]
    pad = np.pad(src, ((radius, radius), (radius, radius)) + ((0, 0),) * (src.ndim - 2), mode="edge")
    acc = np.zeros_like(src)
    for j in range(2 * radius + 1):
        for i in range(2 * radius + 1):
            acc = acc + pad[j: j + h, i: i + w]
    return acc


SHAPES = [(1, 1), (1, 7), (7, 1), (2, 2), (3, 3), (4, 5), (17, 33), (301, 257)]


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{h}x{w}" for h, w in SHAPES])
@pytest.mark.parametrize("t", ["f32", "vector<4xf32>", "vector<2xf32>"])
def test_blur_shapes(device, t, shape):
    lanes = () if t == "f32" else (int(t[7]),)
    src = f32(*shape, *lanes)
    out = np.zeros_like(src)
    run_kernel(device, blur_ir(t, "max-then-min"), "blur", shape[::-1], [src, out])
    np.testing.assert_array_equal(out, blur_numpy(src, 1))


@pytest.mark.parametrize("clamp", sorted(CLAMPS))
@pytest.mark.parametrize("radius", [1, 2])
def test_clamp_spellings(device, clamp, radius):
    text = blur_ir("vector<4xf32>", clamp, radius)
    plan = plan_body(parse_module(text).body.block.first_op.body.block, set(PURE_OPS))
    assert len(plan.clamps) == 2 * (2 * radius + 1)  # both sides of every x tap
    for shape in [(5, 3), (9, 40)]:
        src = f32(*shape, 4)
        out = np.zeros_like(src)
        run_kernel(device, text, "blur", shape[::-1], [src, out])
        np.testing.assert_array_equal(out, blur_numpy(src, radius))


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (65, 67), (300, 513)])
def test_tonemap_matches_numpy(device, shape):
    src = np.random.default_rng(0).random((*shape, 4), dtype=np.float32)
    out = np.zeros_like(src)
    run_kernel(device, TONEMAP_IR, "tonemap", shape[::-1], [src, out, 1.3, -0.1])
    np.testing.assert_array_equal(out, tonemap_numpy(src, 1.3, -0.1))


def test_tonemap_is_vectorised():
    """The interior loop computes several pixels per instruction: the blur taps are
    256-bit (or wider) float vector loads and adds in the optimised IR."""
    from ccomp.runtime.devices.llvm import LLVMDevice

    dev = LLVMDevice()
    prepare(dev, parse_module(TONEMAP_IR))
    def wide(line: str) -> bool:
        return any(int(n) >= 8 for n in re.findall(r"<(\d+) x float>", line))

    wide_ops = [line for line in dev.optimised_ir.splitlines()
                if wide(line) and (" fadd " in line or " load " in line)]
    assert len(wide_ops) >= 9, "the nine blur taps should be wide loads/adds"


def test_scalar_blur_is_loop_vectorised():
    from ccomp.runtime.devices.llvm import LLVMDevice

    dev = LLVMDevice()
    prepare(dev, parse_module(blur_ir("f32", "max-then-min")))
    assert "vector.body" in dev.optimised_ir  # LLVM's loop vectoriser took the interior loop


def test_emitted_ir_text_is_valid_llvm():
    import llvmlite.binding as llvm

    text = emit_llvm_ir(parse_module(TONEMAP_IR))
    assert 'define void @"tonemap"(ptr' in text
    llvm.parse_assembly(text).verify()
