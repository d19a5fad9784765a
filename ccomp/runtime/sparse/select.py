"""Automatic storage-format choice for a sparse input, from its data.

Why: the best kernel depends on the matrix. A mostly-full matrix is fastest dense (no index
reads); a matrix made of well-filled blocks is fastest as bsr (one index per block, dense inner
loops); anything else is csr. The rule is deterministic and uses exact counts (no sampling), so
the same matrix always gets the same format and the same compiled kernel:

1. density (nonzeros / (rows * cols)) >= 25%                        -> dense
2. else the largest block size R x C whose fill >= 60%              -> bsr(RxC)
   (fill = nonzeros / (non-empty R x C blocks * R * C))
3. else                                                             -> csr

Each step applies only when its format is among the candidates. csc and coo are never chosen
automatically: their products scatter into the output and cannot run in parallel. An all-zero
or empty matrix has density 0 and gets csr. The choice is cached per input object the same
way as validation (:class:`~ccomp.runtime.sparse.formats.IdentityCache`), so calling a program
repeatedly with the same matrix measures it once; mutating it in place is not noticed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ccomp.runtime.sparse.formats import Format, IdentityCache, canonical_coo, identity

log = logging.getLogger(__name__)

DENSE_AT = 0.25  # density from which dense storage wins
BLOCK_FILL_AT = 0.60  # block fill from which bsr wins
MEASURED_BLOCKS = ((4, 4), (8, 8))  # always reported in Choice.block_fill


@dataclass(frozen=True)
class Choice:
    """A chosen format, the sentence explaining it, and the measurements behind it."""

    format: Format
    reason: str
    density: float
    block_fill: dict[str, float]


CANDIDATES: tuple[Format, ...] = (Format("dense"), Format("csr"), Format("bsr", (4, 4)), Format("bsr", (8, 8)))

_choices = IdentityCache()


def _pct(x: float) -> str:
    return f"{100 * x:.3g}%"


def measure(value: Any, blocks: Iterable[tuple[int, int]] = MEASURED_BLOCKS,
            ) -> tuple[tuple[int, int], int, float, dict[str, float]]:
    """(shape, nnz, density, block_fill) with block_fill["RxC"] = nnz / (non-empty blocks * R * C),
    counted exactly over the canonical nonzeros (no sampling)."""
    shape, row, col, _ = canonical_coo(value)
    nnz, size = len(row), shape[0] * shape[1]
    fill: dict[str, float] = {}
    for R, C in blocks:
        ids = np.sort((row // R) * -(-shape[1] // C) + col // C)  # sort + count: np.unique is slower
        n_blocks = int(np.count_nonzero(ids[1:] != ids[:-1])) + 1 if ids.size else 0
        fill[f"{R}x{C}"] = nnz / (n_blocks * R * C) if n_blocks else 0.0
    return shape, nnz, (nnz / size if size else 0.0), fill


def _decide(value: Any, candidates: tuple[Format, ...]) -> Choice:
    bsr = sorted({f.block for f in candidates if f.kind == "bsr"}, key=lambda b: (b[0] * b[1], b), reverse=True)
    blocks = tuple(dict.fromkeys((*MEASURED_BLOCKS, *bsr)))
    (rows, cols), nnz, density, fill = measure(value, blocks)
    fallback = Format("csr") if Format("csr") in candidates else candidates[0]
    why_not_csr = "" if fallback.kind == "csr" else " (csr is not a candidate)"
    if nnz == 0:
        return Choice(fallback, f"the {rows}x{cols} matrix has no nonzeros (density 0%): {fallback}{why_not_csr}",
                      0.0, fill)
    if density >= DENSE_AT and Format("dense") in candidates:
        return Choice(Format("dense"), f"density {_pct(density)} >= {_pct(DENSE_AT)}: dense", density, fill)
    head = (f"density {_pct(density)} < {_pct(DENSE_AT)}" if density < DENSE_AT
            else f"density {_pct(density)} (dense is not a candidate)")
    for block in bsr:
        key = f"{block[0]}x{block[1]}"
        if fill[key] >= BLOCK_FILL_AT:
            fmt = Format("bsr", block)
            return Choice(fmt, f"{head} and {key} blocks are {_pct(fill[key])} full "
                               f"(>= {_pct(BLOCK_FILL_AT)}): {fmt}", density, fill)
    if bsr:
        sizes = ", ".join(f"{b[0]}x{b[1]} blocks are only {_pct(fill[f'{b[0]}x{b[1]}'])} full" for b in bsr)
        head = f"{head} and {sizes} (< {_pct(BLOCK_FILL_AT)})"
    return Choice(fallback, f"{head}: {fallback}{why_not_csr}", density, fill)


def choose(value: Any, candidates: Iterable[Format] = CANDIDATES) -> Choice:
    """The format for ``value`` by the rule in the module docstring (cached per input object)."""
    candidates = tuple(candidates)
    if not candidates:
        raise ValueError("choose needs at least one candidate format")
    objs, extra = identity(value), (tuple(getattr(value, "shape", ())), candidates)
    if objs is not None:
        hit = _choices.get(objs, extra)
        if hit is not None:
            return hit
    choice = _decide(value, candidates)
    log.debug("sparse format choice: %s", choice.reason)
    if objs is not None:
        _choices.put(objs, extra, choice)
    return choice
