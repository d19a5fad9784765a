"""Sparse work split into row blocks: a program over a large sparse matrix, run with the
matrix cut into blocks of rows, one block per worker, results stacked.

This is right for programs whose result row ``i`` depends only on row ``i`` of the
matrix and on the other inputs whole — ``A @ v`` (SpMV), one PageRank step
``(1 - d) / n + d * (A @ r)`` — and the result's length is checked against the block's
rows on every call. Iterations (PageRank's) are driven by the caller: each call sends
only the small dense inputs; the blocks stay in their workers.

Blocks are cut where the running count of stored entries crosses equal shares, so each
worker gets about the same work whatever the row lengths. Each worker is a Ray actor
that keeps its block and loads the shipped build once (:func:`batch.program_for`);
an ``auto`` input picks each block's storage format from that block's own data, and
:attr:`RowBlocks.formats` says what each chose.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np

from ccomp.diagnostics import CompileError
from ccomp.runtime.scaleout.batch import Loader, program_for

log = logging.getLogger(__name__)


def cut_rows(matrix: Any, blocks: int) -> list[tuple[int, int]]:
    """Row ranges ``[a, b)`` with about equal numbers of stored entries (none empty)."""
    indptr = np.asarray(matrix.tocsr().indptr)
    rows = len(indptr) - 1
    blocks = max(1, min(blocks, rows))
    shares = np.linspace(0, indptr[-1], blocks + 1)[1:-1]
    cuts = np.searchsorted(indptr, shares, side="left").tolist()
    edges = sorted({0, rows, *[min(max(c, 1), rows - 1) for c in cuts]})
    return list(zip(edges[:-1], edges[1:]))


class BlockWorker:
    """One block and the program that runs over it (a Ray actor, or used in-process)."""

    def __init__(self, archive: bytes, loader: Loader, name: str, block: Any, rows: tuple[int, int]):
        self.prog = program_for(archive, loader)
        self.name, self.block, self.rows = name, block, rows

    def run(self, inputs: dict) -> tuple[Any, list[str]]:
        out = self.prog(**{self.name: self.block}, **inputs)
        value = np.asarray(out if not isinstance(out, tuple) else out[0])
        want = self.rows[1] - self.rows[0]
        if value.ndim < 1 or value.shape[0] != want:
            raise CompileError(f"'{self.prog.name}' gave {value.shape[0] if value.ndim else 'a scalar'} row(s) for a "
                               f"block of {want} rows of '{self.name}': only programs whose result row i comes from "
                               "row i of the matrix can run in row blocks")
        return value, list(self.prog.explanation)


class RowBlocks:
    """``blocks(**other_inputs)`` runs the program on every block and stacks the results;
    ``close()`` ends the workers."""

    def __init__(self, archive: bytes, loader: Loader, name: str, matrix: Any, blocks: int, runtime: str):
        import scipy.sparse as sp

        if not sp.issparse(matrix):
            raise CompileError(f"input '{name}' must be a scipy.sparse matrix to be split into row blocks")
        csr = matrix.tocsr()
        self.ranges = cut_rows(csr, blocks)
        self.runtime, self.ray = runtime, None
        parts = [(csr[a:b], (a, b)) for a, b in self.ranges]
        if runtime == "ray":
            from ccomp.runtime.scaleout.ray_env import require_ray

            self.ray = require_ray()
            actor = self.ray.remote(BlockWorker).options(num_cpus=0)
            ref = self.ray.put(archive)
            self.workers = [actor.remote(ref, loader, name, block, rows) for block, rows in parts]
        else:
            self.workers = [BlockWorker(archive, loader, name, block, rows) for block, rows in parts]
        self.formats: list[list[str]] = [[] for _ in parts]

    def __call__(self, **inputs: Any) -> np.ndarray:
        if self.ray is not None:
            try:
                got = self.ray.get([w.run.remote(inputs) for w in self.workers])
            except self.ray.exceptions.RayTaskError as exc:
                cause = getattr(exc, "cause", None)  # the worker's own exception
                if isinstance(cause, CompileError):
                    raise CompileError(str(cause)) from None
                raise
        else:
            got = [w.run(inputs) for w in self.workers]
        self.formats = [f for _, f in got]
        return np.concatenate([v for v, _ in got])

    def close(self) -> None:
        if self.ray is not None:
            for w in self.workers:
                self.ray.kill(w)
        self.workers = []

    def __enter__(self) -> "RowBlocks":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def describe(ranges: Sequence[tuple[int, int]], formats: Sequence[Sequence[str]]) -> list[str]:
    return [f"rows {a}-{b - 1}: {'; '.join(f) or 'no auto input'}" for (a, b), f in zip(ranges, formats)]
