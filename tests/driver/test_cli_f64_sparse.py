"""``ccomp run --output`` of an f64 sparse result keeps float64 values in the file: an f64
program's matrix must not be narrowed to float32 on its way to disk (.npz or densified .npy)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cliutil import ccomp

PROGRAM = """fn double(A: tensor<?x?xf64, csr>) -> (D: tensor<?x?xf64, csr>) {
    return to(A * 2.0, csr)
}
"""


def test_f64_sparse_result_written_as_float64(tmp_path):
    src = tmp_path / "double.cn"
    src.write_text(PROGRAM)
    A = sp.random(6, 4, density=0.5, format="csr", dtype=np.float64, random_state=3)
    A.data += 1e-9  # differs from its float32 rounding
    sp.save_npz(tmp_path / "A.npz", A)
    res = ccomp("run", str(src), "--no-cache", "--input", f"A={tmp_path / 'A.npz'}",
                "--output", f"D={tmp_path / 'D.npz'}")
    assert res.returncode == 0, res.stderr
    D = sp.load_npz(tmp_path / "D.npz")
    assert D.dtype == np.float64
    np.testing.assert_array_equal(D.toarray(), (A * 2.0).toarray())
    res = ccomp("run", str(src), "--no-cache", "--input", f"A={tmp_path / 'A.npz'}",
                "--output", f"D={tmp_path / 'D.npy'}")
    assert res.returncode == 0, res.stderr
    dense = np.load(tmp_path / "D.npy")
    assert dense.dtype == np.float64
    np.testing.assert_array_equal(dense, (A * 2.0).toarray())
