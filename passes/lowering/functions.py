"""Lowering whole functions into kernels plus a host function: what ``graph-to-kern``
and ``sparse-lower`` share.

Both passes rewrite one ``func.func`` at a time, and a function is the smallest
unit they can rewrite: its signature changes (images become buffers, a sparse
tensor its storage buffers and sizes) and its kernels are named after it. So the
rewrite is one :class:`~xdsl.pattern_rewriter.RewritePattern` on ``func.func``,
parameterised by the per-pass lowering that builds the new function, and the pass
ends with the illegal-dialect check (:mod:`ccomp.passes.lowering.legality`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern


from ccomp.dialects import kern
from ccomp.passes.lowering.builder import IRBuilder
from ccomp.passes.lowering.legality import check_legal, keep



class KernelNames:
    """Names for new kernels, ``<function>_<n>``, unique among the module's symbols (a
    function may itself be called ``g_0``)."""

    def __init__(self, module: ModuleOp):
        self.taken = {o.sym_name.data for o in module.body.block.ops if isinstance(o, (func.FuncOp, kern.KernelOp))}

    def fresh(self, function: str, n: int) -> str:
        """The first free ``<function>_<k>`` with ``k >= n``, now taken."""
        while f"{function}_{n}" in self.taken:
            n += 1
        name = f"{function}_{n}"
        self.taken.add(name)
        return name


class FunctionLowering(Protocol):
    """Lowers one function; ``kernels`` holds what ``lower`` built besides it."""

    kernels: list[kern.KernelOp]

    def lower(self) -> func.FuncOp: ...


class OpTable:
    """Op dispatch of a lowering: ``HANDLERS`` maps op classes to methods (a subclass
    may extend or trim it). An op without a handler is kept as it is — the code
    around the lowered ops — unless it is of ``DIALECT``, the dialect being lowered,
    which makes it a case the lowering forgot (:func:`~.legality.keep`)."""

    HANDLERS: ClassVar[dict[type[Operation], Callable[[Any, Any, IRBuilder], None]]] = {}
    DIALECT: ClassVar[str]
    PASS: ClassVar[str]
    mapping: dict[SSAValue, Any]

    def lower_op(self, op: Operation, b: IRBuilder) -> None:
        handler = self.HANDLERS.get(type(op))
        if handler is not None:
            handler(self, op, b)
        else:
            b.add(keep(op, self.mapping, self.DIALECT, self.PASS))


LoweringFactory = Callable[[func.FuncOp, KernelNames], FunctionLowering]


@dataclass
class LowerFunction(RewritePattern):
    """Replace a function ``wanted`` selects by its kernels and its lowered self."""

    lowering: LoweringFactory
    wanted: Callable[[func.FuncOp], bool]
    names: KernelNames

    @op_type_rewrite_pattern
    def match_and_rewrite(self, fn: func.FuncOp, rewriter: PatternRewriter) -> None:
        if not self.wanted(fn):
            return
        lowering = self.lowering(fn, self.names)
        new = lowering.lower()
        rewriter.replace(fn, [*lowering.kernels, new], new_results=[])


def rewrite_functions(module: ModuleOp, pattern: RewritePattern) -> None:
    """Apply ``pattern`` once to each function of ``module``.

    Functions sit only at the top of a module, so the pattern is applied to each of
    them directly: a ``PatternRewriteWalker`` would also visit every op inside them,
    three times over (to fill its worklist, to match, and to drop a replaced
    function's ops), which costs more than the rewrite of a small program."""
    for fn in [o for o in module.body.block.ops if isinstance(o, func.FuncOp)]:
        pattern.match_and_rewrite(fn, PatternRewriter(fn))


def lower_functions(module: ModuleOp, lowering: LoweringFactory, wanted: Callable[[func.FuncOp], bool],
                    dialect: str, pass_name: str) -> None:
    """Lower every function of ``module`` that ``wanted`` selects, then check that no
    op of ``dialect`` is left."""
    rewrite_functions(module, LowerFunction(lowering, wanted, KernelNames(module)))
    check_legal(module, dialect, pass_name)

