"""Shared helper of the reference tests: run one op per element and as a uniform."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from ccomp.dialects.context import parse_module
from ccomp.reference import evaluate

RunOp = Callable[..., np.ndarray]


def run_both(op: str, types: list[str], out: str, *cols: object) -> np.ndarray:
    """``%r = <op>`` over operands %a, %b, %c, per element and as uniforms."""
    arrays = [np.asarray(c) for c in cols]
    names = "abc"[: len(types)]
    img = [f"!graph.image<{t}>" for t in types]
    elementwise = f"""
func.func @f({", ".join(f"%i{n}: {i}" for n, i in zip(names, img))}) -> !graph.image<{out}> {{
  %sz = graph.size %ia : {img[0]}
  %m = graph.map({", ".join(f"%i{n}" for n in names)}) : ({", ".join(img)}) -> !graph.field<{out}> {{
  ^bb0({", ".join(f"%{n}: {t}" for n, t in zip(names, types))}):
    %r = {op}
    graph.yield %r : {out}
  }}
  %o = graph.capture %m, %sz : !graph.field<{out}> -> !graph.image<{out}>
  func.return %o : !graph.image<{out}>
}}"""
    (per_element,) = evaluate(parse_module(elementwise), "f", [a[None] for a in arrays])
    uniform_ir = f"""
func.func @f({", ".join(f"%{n}: {t}" for n, t in zip(names, types))}) -> {out} {{
  %r = {op}
  func.return %r : {out}
}}"""
    module = parse_module(uniform_ir)
    uniforms = [evaluate(module, "f", [a[i] for a in arrays])[0] for i in range(len(arrays[0]))]
    np.testing.assert_array_equal(per_element[0], np.stack(uniforms))
    assert per_element.dtype == uniforms[0].dtype
    return per_element[0]


@pytest.fixture
def both() -> RunOp:
    """``both(op, operand_types, result_type, *columns)``: see ``run_both``."""
    return run_both
