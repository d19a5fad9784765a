"""Kernels that loop more than llvmpipe's 65535 iterations in one invocation, on glsl.

Mesa's llvmpipe stops an invocation's loops after 65535 iterations in all and says
nothing (``ccomp/runtime/devices/gl_limits.py``). Before the guard these returned
wrong numbers: a 3x100,000 dense matvec 35% low, a CSC matvec over 70,000 stored
entries 87% low, a CSR matmul row of 80,000 entries 79% low, a CSR matrix of 100,000
rows converted to COO had nnz 0 (its row-pointer scan is one invocation). Each case here must
either match the reference or — on a renderer with a loop budget — fail with a
located error naming the limit; never a wrong answer. Shapes kept under the budget
by construction (chunked reductions, CSR rows summed four entries a turn) must match."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import ccomp
from ccomp.diagnostics import CompileError
from ccomp.runtime.devices import gl
from ccomp.runtime.devices.gl_limits import max_loop_iterations

AVAILABLE, WHY = gl.probe()
BUDGET = max_loop_iterations(WHY) if AVAILABLE else None
pytestmark = pytest.mark.skipif(not AVAILABLE, reason=WHY)

MATVEC = "fn f(A: tensor<?x?xf32{fmt}>, v: tensor<?xf32>) -> tensor<?xf32> {{\n    return A @ v\n}}\n"
MATMUL = "fn f(A: tensor<?x?xf32, csr>, B: tensor<?x?xf32>) -> tensor<?x?xf32> {\n    return A @ B\n}\n"
CONVERT = """fn c(A: tensor<?x?xf32, csr>) -> (s: tensor<?x?xf32, coo>, d: tensor<?x?xf32>) {
    let s = to(A, coo)
    return s, to_dense(s)
}
"""
STEPS = """network one() -> (c: tensor<1xi32>, v: tensor<1xf32>) steps 100000 dt 1ms {
    layer n = lif(1, tau: 10ms, v_th: 1.0, bias: 2.0, refractory: 0ms)
    return spike_count(n), voltage(n)
}
"""


def close(got, want) -> bool:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return got.shape == want.shape and float(np.abs(got - want).max()) <= 1e-4 * max(float(np.abs(want).max()), 1.0)


def rng():
    return np.random.default_rng(5)


def dense_matvec():
    a, v = rng().random((3, 100_000), np.float32), rng().random(100_000, np.float32)
    return MATVEC.format(fmt=""), {"A": a, "v": v}, a.astype(np.float64) @ v, (2, 14)


def csc_matvec():
    a = sp.random(50, 2000, density=0.7, format="csr", dtype=np.float32, random_state=3)
    v = rng().random(2000, np.float32)
    return MATVEC.format(fmt=", csc"), {"A": a, "v": v}, a.astype(np.float64) @ v, (2, 14)


def csr_matmul_long_row():
    a = sp.random(2, 100_000, density=0.8, format="csr", dtype=np.float32, random_state=4)
    b = rng().random((100_000, 2), np.float32)
    return MATMUL, {"A": a, "B": b}, a.astype(np.float64) @ b, (2, 14)


def convert_many_rows():
    a = sp.random(100_000, 3, density=0.5, format="csr", dtype=np.float32, random_state=1)
    return CONVERT, {"A": a}, (None, a.toarray()), (2, 13)


def isolated_layer_many_steps():
    want = ccomp.compile(STEPS, target="llvm", cache=False)()
    return STEPS, {}, want, (2, 5)


OVER = {"dense matvec 3x100000": dense_matvec, "csc matvec 70000 entries": csc_matvec,
        "csr matmul row of 80000": csr_matmul_long_row, "lif layer 100000 steps": isolated_layer_many_steps,
        "csr to coo 100000 rows": convert_many_rows}


def outputs(result):
    return list(result) if isinstance(result, tuple) else [result]


@pytest.mark.parametrize("case", OVER)
def test_over_the_budget_is_right_or_a_located_error(case):
    text, args, want, (line, col) = OVER[case]()
    prog = ccomp.compile(text, target="glsl", cache=False)
    if BUDGET is None:  # a GPU: no limiter, the answer must be right
        assert all(w is None or close(g, w) for g, w in zip(outputs(prog(**args)), outputs(want)))
        return
    with pytest.raises(CompileError) as info:
        prog(**args)
    d = info.value.diagnostic
    assert (d.loc.line, d.loc.col) == (line, col)
    assert "65535 loop iterations in one shader invocation" in d.message
    assert "use -t llvm or -t opencl" in d.message


@pytest.mark.skipif(BUDGET is None, reason="no loop budget on this renderer")
def test_the_check_is_what_stands_between_the_cut_and_a_wrong_answer():
    """With the device's budget cleared (as on a GPU) llvmpipe's answer is silently
    wrong: the case above is no test of nothing. The device stays usable after an
    overrun was reported."""
    text, args, want, _ = dense_matvec()
    prog = ccomp.compile(text, target="glsl", cache=False)
    with pytest.raises(CompileError):
        prog(**args)
    small = {"A": args["A"][:, :1000], "v": args["v"][:1000]}
    assert close(prog(**small), args["A"][:, :1000].astype(np.float64) @ args["v"][:1000])
    prog.device.max_loop_iterations = None
    assert not close(prog(**args), want)


SUM = "graph t(a: image<f32>) -> f32 {\n    return sum(a)\n}\n"
FN_SUM = "fn f(v: tensor<?xf32>) -> f32 {\n    return sum(v)\n}\n"


def under_budget():
    img = rng().random((300, 300), np.float32)
    v = rng().random(100_000, np.float32)
    a = sp.random(2, 100_000, density=1.0, format="csr", dtype=np.float32, random_state=6)
    return {"image sum 300x300": (SUM, {"a": img}, img.astype(np.float64).sum()),
            "fn sum 100000": (FN_SUM, {"v": v}, v.astype(np.float64).sum()),
            "csr matvec row of 100000": (MATVEC.format(fmt=", csr"), {"A": a, "v": v}, a.astype(np.float64) @ v)}


@pytest.mark.parametrize("case", ["image sum 300x300", "fn sum 100000", "csr matvec row of 100000"])
def test_shapes_kept_under_the_budget_match(case):
    text, args, want = under_budget()[case]
    assert close(ccomp.compile(text, target="glsl", cache=False)(**args), want)


@pytest.mark.skipif(BUDGET is None, reason="no loop budget on this renderer")
def test_the_check_fires_at_the_budget_not_before():
    """A dense row of 65,000 (65,001 counted turns, under the report threshold) runs and
    is right; one of 65,536 — where llvmpipe has cut the loop — is reported."""
    prog = ccomp.compile(MATVEC.format(fmt=""), target="glsl", cache=False)
    a, v = rng().random((2, 65_536), np.float32), rng().random(65_536, np.float32)
    assert close(prog(A=a[:, :65_000], v=v[:65_000]), a[:, :65_000].astype(np.float64) @ v[:65_000])
    with pytest.raises(CompileError, match="65535"):
        prog(A=a, v=v)
