"""What a new user tripped over in Python (issue 16): static sizes are checked, bools
are bools, messages and ``prog.inputs`` speak the language's types, and
``help(ccomp.compile)`` shows the real signature."""

from __future__ import annotations

import inspect
import subprocess
import sys

import numpy as np
import pytest

import ccomp
from ccomp import CompileError

SIZED = """graph sized(src: image<vec4, 8x4>, flag: bool = false, k: i32 = 2) -> image<vec4> {
    return select(flag, src * f32(k), src)
}
"""
TENSOR = """fn shaped(a: tensor<4x3xf32>, b: tensor<?x3xf32>, m: tensor<?x?xf32, csr>) -> tensor<4x3xf32> {
    return a + 1.0
}
"""


@pytest.fixture(scope="module")
def sized() -> ccomp.Program:
    return ccomp.compile(SIZED)


def test_static_image_size(sized: ccomp.Program):
    good = np.ones((4, 8, 4), np.float32)
    assert sized(good).shape == (4, 8, 4)
    with pytest.raises(CompileError, match=r"1:13: error: input 'src' is declared image<vec4, 8x4>: "
                                           r"its shape must be \(4, 8, 4\).*got \(8, 4\)"):
        sized(np.ones((8, 4, 4), np.float32))


def test_static_tensor_sizes():
    prog = ccomp.compile(TENSOR)
    m = np.eye(3, dtype=np.float32)
    assert prog(np.ones((4, 3), np.float32), np.ones((2, 3), np.float32), m).shape == (4, 3)
    with pytest.raises(CompileError, match=r"input 'a' is declared tensor<4x3xf32>: its shape must be \(4, 3\), "
                                           r"got \(5, 3\)"):
        prog(np.ones((5, 3), np.float32), np.ones((2, 3), np.float32), m)
    with pytest.raises(CompileError, match=r"input 'b' is declared tensor<\?x3xf32>: .*got \(2, 4\)"):
        prog(np.ones((4, 3), np.float32), np.ones((2, 4), np.float32), m)


def test_static_size_on_a_result_is_refused():
    with pytest.raises(CompileError, match="1:40: error: a static size is for inputs"):
        ccomp.compile("graph g(src: image<f32>) -> image<f32, 8x8> {\n    return src\n}\n")


@pytest.mark.parametrize("flag", [True, False, np.bool_(True), np.array(False)])
def test_bools_are_accepted(sized: ccomp.Program, flag):
    out = sized(np.ones((4, 8, 4), np.float32), flag=flag)
    assert out[0, 0, 0] == (2.0 if bool(flag) else 1.0)


@pytest.mark.parametrize("flag", [2, 0.5, 1, "true"])
def test_other_values_are_not_bools(sized: ccomp.Program, flag):
    with pytest.raises(CompileError) as info:
        sized(np.ones((4, 8, 4), np.float32), flag=flag)
    assert "input 'flag'" in str(info.value) and "bool" in str(info.value) and "i1" not in str(info.value)


def test_messages_name_language_types(sized: ccomp.Program):
    with pytest.raises(CompileError, match="input 'k' must fit in i32"):
        sized(np.ones((4, 8, 4), np.float32), k=2**40)
    with pytest.raises(CompileError, match="input 'k' must be an i32 scalar, got str"):
        sized(np.ones((4, 8, 4), np.float32), k="2")
    with pytest.raises(CompileError) as info:
        sized([1.0])
    assert "memref" not in str(info.value) and "vector<" not in str(info.value)


def test_ports_print_as_the_language_writes_them(sized: ccomp.Program):
    assert [str(p) for p in sized.inputs] == ["src: image<vec4, 8x4>", "flag: bool = false", "k: i32 = 2"]
    assert repr(sized.outputs) == "[Port(out: image<vec4, 8x4>)]"  # computed over src's static extent
    assert repr(sized) == ("<ccomp.Program sized(src: image<vec4, 8x4>, flag: bool = false, k: i32 = 2) "
                           "-> (out: image<vec4, 8x4>) on llvm>")
    tensor = ccomp.compile(TENSOR)
    assert [p.language_type for p in tensor.inputs] == ["tensor<4x3xf32>", "tensor<?x3xf32>", "tensor<?x?xf32, csr>"]
    assert [str(p) for p in tensor.outputs] == ["out: tensor<4x3xf32>"]


RESULT_SIZES = """graph kinds(a: image<f32, 8x4>, b: image<f32>, n: i32 = 3)
        -> (same: image<f32>, hist: tensor<16xi32>, kept: image<f32>, halved: image<f32>, free: image<f32>,
            level: image<f32>) {
    return a * 2.0, histogram(a, 16, 0.0, 1.0), repeat n (u = a) { yield u * 0.5 },
           resize(a, size(a) / 2), b + 1.0, repeat n (p = a) { yield resize(p, size(p) / 2) }
}
"""


def test_static_sizes_of_results_print_as_declared_or_fixed_by_the_program():
    """Results print their static size where the program fixes it: an image computed
    over a static input's extent (directly or through a zone that keeps it), a
    histogram's bins, a tensor result's declared size; what changes size stays '?'."""
    prog = ccomp.compile(RESULT_SIZES, cache=False)
    assert [p.language_type for p in prog.outputs] == [
        "image<f32, 8x4>", "tensor<16xi32>", "image<f32, 8x4>", "image<f32>", "image<f32>", "image<f32>"]
    outs = prog(np.ones((4, 8), np.float32), np.ones((3, 5), np.float32))
    assert [o.shape for o in outs] == [(4, 8), (16,), (4, 8), (2, 4), (3, 5), (1, 1)]
    sparse = ccomp.compile("fn s(A: tensor<4x4xf32, csr>, v: tensor<4xf32>) -> (B: tensor<4x4xf32, csr>, "
                           "w: tensor<4xf32>) {\n    return A * 2.0, A @ v\n}\n", cache=False)
    assert [str(p) for p in sparse.outputs] == ["B: tensor<4x4xf32, csr>", "w: tensor<4xf32>"]


def test_compile_shows_its_real_signature():
    params = inspect.signature(ccomp.compile).parameters
    assert list(params)[:4] == ["src_or_path", "target", "function", "cache"]
    assert params["target"].default == "llvm"
    assert "Compile a ``.cn`` program" in ccomp.compile.__doc__
    assert ccomp.compile is ccomp.api.compile and ccomp.load is ccomp.api.load


def test_import_ccomp_stays_cheap():
    code = "import sys, ccomp; print('ccomp.api' in sys.modules, 'xdsl' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.stdout.split() == ["False", "False"], res.stderr
