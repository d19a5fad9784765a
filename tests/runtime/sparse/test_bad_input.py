"""Bad sparse inputs are located or input-named errors, never crashes or wrong answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import ccomp

ROOT = Path(__file__).resolve().parents[3]
SPMV = ROOT / "examples" / "spmv.cn"


@pytest.fixture(scope="module")
def spmv() -> ccomp.Program:
    return ccomp.compile(SPMV, target="llvm")


def test_shape_mismatch_is_located_at_the_product(spmv: ccomp.Program) -> None:
    a = sp.random(5, 4, density=0.5, format="csr", dtype=np.float32, random_state=0)
    with pytest.raises(ccomp.CompileError) as err:
        spmv(A=a, v=np.ones(7, np.float32))
    text = str(err.value)
    assert "spmv.cn:3:14: error: the matrix has 4 columns but the vector has 7 elements" in text
    assert text.splitlines()[-1].strip() == "^"


def test_wrong_dtypes_name_the_input(spmv: ccomp.Program) -> None:
    a = sp.csr_matrix(np.array([[1j, 0], [0, 1]]))
    with pytest.raises(ccomp.CompileError, match="input 'A'.*complex"):
        spmv(A=a, v=np.ones(2, np.float32))
    with pytest.raises(ccomp.CompileError, match="input 'v' must have dtype float32"):
        spmv(A=sp.eye(2, dtype=np.float32, format="csr"), v=np.ones(2))


@pytest.mark.parametrize("indices, problem", [([0, -1], "negative|out of range"), ([0, 9], "out of range")])
def test_bad_indices_are_refused(spmv: ccomp.Program, indices: list[int], problem: str) -> None:
    a = sp.csr_matrix((2, 3), dtype=np.float32)
    a.data, a.indices, a.indptr = np.ones(2, np.float32), np.array(indices, np.int32), np.array([0, 1, 2], np.int32)
    with pytest.raises(ccomp.CompileError, match=f"input 'A'.*({problem})"):
        spmv(A=a, v=np.ones(3, np.float32))


def test_not_a_matrix(spmv: ccomp.Program) -> None:
    with pytest.raises(ccomp.CompileError, match="input 'A'"):
        spmv(A=np.ones((2, 2, 2), np.float32), v=np.ones(2, np.float32))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ccomp.driver.cli", *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_corrupt_npz_and_good_npz(tmp_path: Path) -> None:
    v = tmp_path / "v.npy"
    np.save(v, np.ones(4, np.float32))
    bad = tmp_path / "A.npz"
    bad.write_bytes(b"PK\x03\x04 this is not a zip archive")
    r = run_cli("run", str(SPMV), "-i", f"A={bad}", "-i", f"v={v}")
    assert r.returncode != 0 and "Traceback" not in r.stderr and "input 'A'" in r.stderr
    good = tmp_path / "good.npz"
    a = sp.random(3, 4, density=0.5, format="coo", dtype=np.float32, random_state=1)
    sp.save_npz(good, a)
    out = tmp_path / "y.npy"
    r = run_cli("run", str(SPMV), "-i", f"A={good}", "-i", f"v={v}", "-o", f"out={out}")
    assert r.returncode == 0, r.stderr
    assert np.allclose(np.load(out), a @ np.ones(4, np.float32), rtol=1e-6)


def test_cli_explain_says_which_format() -> None:
    path = ROOT / "examples" / "data"
    a = sp.random(64, 64, density=0.02, format="csr", dtype=np.float32, random_state=2)
    target = path / "_explain_test.npz"
    sp.save_npz(target, a)
    try:
        r = run_cli("run", str(ROOT / "examples" / "pagerank.cn"), "-i", f"A={target}", "--explain")
    finally:
        target.unlink()
    assert r.returncode == 0, r.stderr
    assert "explain: A: csr" in r.stdout and "density" in r.stdout
