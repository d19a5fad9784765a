"""Sparse products: ccomp (LLVM, all cores) against ``scipy.sparse`` and a parallel
Numba CSR loop, in one process.

    python bench/sparse.py [--n 8192] [--densities 0.1,0.01,0.001] [--spmm-cols 64]

SpMV ``y = A v`` (examples/spmv.cn) at each density and SpMM ``Y = A B`` with a dense
``B`` of ``--spmm-cols`` columns at 1% (examples/spmm.cn), A an n x n float32 CSR
matrix. Times are whole calls as a user makes them — ``prog(A=A, v=v)`` including
argument checks and the result array — against ``A @ v``. Reported: GFLOP/s (2 per
stored entry, times the columns for SpMM), effective GB/s (the bytes a CSR product
must read and write once: values, column ids, row pointers, the dense operand and
the result) and each contender's speed relative to SciPy. Every result is checked
against SciPy before anything is timed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import best_time  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def numba_kernels():
    """Parallel CSR SpMV/SpMM loops, or None when Numba is not installed."""
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(parallel=True, fastmath=False, cache=False)
    def spmv(indptr, indices, data, x, y):
        for i in numba.prange(len(indptr) - 1):
            acc = np.float32(0.0)
            for k in range(indptr[i], indptr[i + 1]):
                acc += data[k] * x[indices[k]]
            y[i] = acc

    @numba.njit(parallel=True, fastmath=False, cache=False)
    def spmm(indptr, indices, data, b, out):
        for i in numba.prange(len(indptr) - 1):
            out[i, :] = 0
            for k in range(indptr[i], indptr[i + 1]):
                out[i, :] += data[k] * b[indices[k], :]
    return spmv, spmm


def traffic(a, dense_cols: int) -> int:
    """Bytes a CSR product reads and writes at least once."""
    n_rows, n_cols = a.shape
    return a.nnz * 8 + (n_rows + 1) * 4 + (n_cols + n_rows) * dense_cols * 4


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=8192)
    parser.add_argument("--densities", default="0.1,0.01,0.001")
    parser.add_argument("--spmm-cols", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    import scipy.sparse as sp

    import ccomp

    spmv_prog = ccomp.compile(ROOT / "examples" / "spmv.cn", target="llvm")
    spmm_prog = ccomp.compile(ROOT / "examples" / "spmm.cn", target="llvm")
    kernels = numba_kernels()
    rng = np.random.default_rng(0)
    n = args.n
    cases = [("spmv", float(d), 1) for d in args.densities.split(",")] + [("spmm", 0.01, args.spmm_cols)]
    print(f"n = {n}; ccomp on {spmv_prog.device.threads} threads; best of {args.repeat} calls\n")
    print(f"{'case':16} {'contender':8} {'ms':>8} {'GFLOP/s':>8} {'GB/s':>7} {'vs scipy':>9}")
    for kind, density, cols in cases:
        a = sp.random(n, n, density=density, format="csr", dtype=np.float32, random_state=rng)
        a.sort_indices()
        dense = rng.random((n, cols) if kind == "spmm" else n, dtype=np.float32)
        want = a @ dense
        if kind == "spmv":
            ours = lambda: spmv_prog(A=a, v=dense)  # noqa: E731
        else:
            ours = lambda: spmm_prog(A=a, B=dense)  # noqa: E731
        got = ours()
        scale = max(float(np.abs(want).max()), 1e-30)
        assert float(np.abs(got - want).max()) / scale <= 1e-5, "ccomp disagrees with scipy"
        rows = [("scipy", best_time(lambda: a @ dense, args.repeat)), ("ccomp", best_time(ours, args.repeat))]
        if kernels is not None:
            out = np.empty_like(want)
            fn = kernels[0] if kind == "spmv" else kernels[1]
            run = lambda: fn(a.indptr, a.indices, a.data, dense, out)  # noqa: E731
            run()
            assert float(np.abs(out - want).max()) / scale <= 1e-5, "numba disagrees with scipy"
            rows.append(("numba", best_time(run, args.repeat)))
        flops, nbytes, base = 2 * a.nnz * cols, traffic(a, cols), rows[0][1]
        label = f"{kind} {100 * density:g}%" + (f" x{cols}" if kind == "spmm" else "")
        for name, seconds in rows:
            print(f"{label:16} {name:8} {seconds * 1e3:8.3f} {flops / seconds / 1e9:8.2f} "
                  f"{nbytes / seconds / 1e9:7.2f} {base / seconds:8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
