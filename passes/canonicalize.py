"""``canonicalize``: xDSL's canonicalization, with float constants folded as the
program's own float type computes them.

xDSL 0.74 folds ``arith.addf/subf/mulf/divf`` of two constants in Python doubles and
stores the result with ``FloatAttr(value, f32)``, which raises ``OverflowError`` when the
double is beyond f32's range: ``a + 1e30 * 1e30``, or ``1e30 % 1e-40`` (whose lowering
divides), was a traceback instead of a program (found by ``tools/fuzz_targets.py``). Here
that fold computes in NumPy's type of the operands (``float32`` for ``f32``), so it gives
IEEE results exactly as the targets and the reference do (``inf``, NaN, signed zeros),
and xDSL's reassociating fold (only under ``fastmath<reassoc>``, which ccomp never sets;
reassociation changes float results) is not used. Everything else is xDSL's pass.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith, builtin
from xdsl.ir import Operation
from xdsl.pattern_rewriter import GreedyRewritePatternApplier, PatternRewriter, PatternRewriteWalker, RewritePattern
from xdsl.traits import HasCanonicalizationPatternsTrait
from xdsl.transforms import canonicalize
from xdsl.transforms.canonicalization_patterns.arith import FoldConstConstOp, FoldConstsByReassociation
from xdsl.transforms.dead_code_elimination import region_dce
from xdsl.utils.hints import isa

_NUMPY = {builtin.Float16Type: np.float16, builtin.Float32Type: np.float32, builtin.Float64Type: np.float64}
_OPS = {arith.AddfOp: np.add, arith.SubfOp: np.subtract, arith.MulfOp: np.multiply, arith.DivfOp: np.divide}


class FoldFloatConstants(RewritePattern):
    """``arith.{add,sub,mul,div}f`` of two scalar float constants -> one constant,
    computed in the operands' own precision."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        ufunc = _OPS.get(type(op))
        if ufunc is None:
            return
        lhs, rhs = op.operands[0].owner, op.operands[1].owner
        if not (isinstance(lhs, arith.ConstantOp) and isinstance(rhs, arith.ConstantOp)):
            return
        a, b = lhs.value, rhs.value
        if not (isa(a, builtin.FloatAttr) and isa(b, builtin.FloatAttr)) or type(a.type) not in _NUMPY:
            return
        ty = _NUMPY[type(a.type)]
        with np.errstate(all="ignore"):
            value = ufunc(ty(a.value.data), ty(b.value.data), dtype=ty)
        rewriter.replace(op, arith.ConstantOp(builtin.FloatAttr(float(value), a.type)))


class _Patterns(canonicalize.CanonicalizationRewritePattern):
    """Each op's canonicalization patterns, xDSL's float folds replaced by ours."""

    _replaced: ClassVar = (FoldConstConstOp, FoldConstsByReassociation)

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        patterns = [p for trait in op.get_traits_of_type(HasCanonicalizationPatternsTrait)
                    for p in trait.get_patterns(type(op)) if not isinstance(p, self._replaced)]
        if type(op) in _OPS:
            patterns.insert(0, FoldFloatConstants())
        if patterns:
            GreedyRewritePatternApplier(patterns).match_and_rewrite(op, rewriter)


class CanonicalizePass(canonicalize.CanonicalizePass):
    """xDSL's ``canonicalize`` with IEEE folding of float constants (module docstring)."""

    name = "canonicalize"

    def apply(self, ctx: Context, op: builtin.ModuleOp) -> None:
        pattern = GreedyRewritePatternApplier([_Patterns()], ctx=ctx, folding_enabled=True)
        PatternRewriteWalker(pattern, post_walk_func=region_dce).rewrite_module(op)
