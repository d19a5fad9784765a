"""Returning sparse tensors: every format on every target comes back as a scipy.sparse matrix
(Python) or a file scipy reads (CLI), never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import ccomp

ROOT = Path(__file__).resolve().parents[3]
TARGETS = ("llvm", "opencl", "glsl")
RESULTS = {"r_csr": "csr", "r_csc": "csc", "r_coo": "coo", "r_bsr": "bsr(2x2)", "r_dense": "dense"}
PROGRAM = ("fn f(A: tensor<?x?xf32, csr>) -> ("
           + ", ".join(f"{n}: tensor<?x?xf32{'' if f == 'dense' else ', ' + f}>" for n, f in RESULTS.items())
           + ") {\n    return " + ", ".join(f"to(A, {f})" for f in RESULTS.values()) + "\n}\n")


@pytest.fixture(scope="module", params=TARGETS)
def program(request) -> ccomp.Program:
    return ccomp.compile(PROGRAM, target=request.param, cache=False)


@pytest.mark.parametrize("shape, density", [((8, 6), 0.4), ((7, 5), 0.4), ((4, 4), 0.0), ((1, 1), 1.0)])
def test_every_format_comes_back_as_scipy(program: ccomp.Program, shape, density) -> None:
    a = sp.random(*shape, density=density, format="csr", dtype=np.float32, random_state=3)
    results = program(A=a)
    for (name, fmt), r in zip(RESULTS.items(), results):
        if fmt == "dense":
            assert isinstance(r, np.ndarray) and r.dtype == np.float32
            np.testing.assert_array_equal(r, a.toarray())
            continue
        multiple = shape[0] % 2 == 0 and shape[1] % 2 == 0
        want = "csr" if fmt == "bsr(2x2)" and not multiple else fmt[:3]  # scipy's bsr needs block multiples
        assert sp.issparse(r) and r.format == want and r.dtype == np.float32 and r.shape == shape, name
        assert r.format != "bsr" or r.blocksize == (2, 2)
        np.testing.assert_array_equal(r.toarray(), a.toarray(), err_msg=name)
        assert r.nnz >= a.nnz


def test_a_result_survives_the_next_call(program: ccomp.Program) -> None:
    a, b = (sp.random(8, 6, density=0.4, format="csr", dtype=np.float32, random_state=s) for s in (1, 2))
    first = program(A=a)
    kept = [np.asarray(r.toarray() if sp.issparse(r) else r).copy() for r in first]
    program(A=b)
    for r, k in zip(first, kept):
        np.testing.assert_array_equal(r.toarray() if sp.issparse(r) else r, k)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ccomp.driver.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_writes_sparse_results(tmp_path: Path) -> None:
    prog = tmp_path / "conv.cn"
    prog.write_text("fn f(A: tensor<?x?xf32, csr>) -> (s: tensor<?x?xf32, bsr(2x2)>, c: tensor<?x?xf32, coo>) {\n"
                    "    return to(A, bsr(2x2)), to(A, coo)\n}\n")
    a = sp.random(6, 4, density=0.5, format="csc", dtype=np.float32, random_state=4)
    sp.save_npz(tmp_path / "A.npz", a)
    r = run_cli("run", str(prog), "-i", "A=A.npz", "--output", "s=out/s.npz", "--output", "c=c.npy", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "s: wrote out/s.npz (6, 4) bsr(2x2)" in r.stdout and "c: wrote c.npy (6, 4) densified from coo" in r.stdout
    s = sp.load_npz(tmp_path / "out" / "s.npz")  # written by scipy.sparse.save_npz, in the result's format
    assert s.format == "bsr" and s.blocksize == (2, 2) and s.dtype == np.float32
    np.testing.assert_array_equal(s.toarray(), a.toarray())
    dense = np.load(tmp_path / "c.npy")
    assert dense.dtype == np.float32 and dense.shape == (6, 4)
    np.testing.assert_array_equal(dense, a.toarray())
    r = run_cli("run", str(prog), "-i", "A=A.npz", "--output", "s=s.png", cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "s.png").is_file(), r.stderr
    r = run_cli("run", str(prog), "-i", "A=A.npz", "--output", "s=s.txt", cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "output 's': a sparse matrix is written as .npz (or densified as .npy or .png), not '.txt'" in r.stderr


def test_a_malformed_kernel_result_is_an_internal_error() -> None:
    """Results are validated like inputs: a broken kernel cannot hand out a matrix that lies."""
    from ccomp.runtime.signature import Port
    from ccomp.runtime.tensor_ports import regroup

    port = Port("s", None, tensor="csr", arity=6)
    good = [np.array([0, 1, 1], np.int32), np.array([1], np.int32), np.array([2.5], np.float32)]
    (m,) = regroup([port], [*good, np.int32(2), np.int32(3), np.int32(1)])
    np.testing.assert_array_equal(m.toarray(), [[0, 2.5, 0], [0, 0, 0]])
    bad = [good[0], np.array([7], np.int32), good[2]]  # column 7 of 3
    with pytest.raises(ccomp.CompileError, match="internal error: result 's' \\(csr\\) came back malformed: "
                                                 "column index 7 is out of range"):
        regroup([port], [*bad, np.int32(2), np.int32(3), np.int32(1)])
