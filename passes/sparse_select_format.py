"""``sparse-select-format``: one variant of a function per candidate storage format.

A parameter declared ``auto`` leaves the format to the data, which is only known
when the program runs. This pass clones the function once per candidate format of
each ``auto`` parameter (the product over several such parameters), names the
variants ``<fn>__<format>`` and tags them ``sparse.variant_of = "<fn>"``; every
variant's ``auto`` parameter carries ``sparse.auto = "<format>"`` so the runtime
knows which input it converts. The runtime measures the input (density, block
fill; :mod:`ccomp.runtime.sparse.select`) and calls the variant whose formats it
chose. ``dense`` is a candidate: past a certain density, plain loops beat indices.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, FunctionType, ModuleOp, StringAttr
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern
from xdsl.utils.exceptions import VerifyException

from ccomp.diagnostics import PassError
from ccomp.passes.lowering.functions import rewrite_functions


from ccomp.dialects.sparse_format import FormatAttr, format_of, format_tag, parse_format, set_variant_of, with_auto, with_format

DEFAULT_CANDIDATES = "dense,csr,bsr4x4,bsr8x8"


@dataclass
class SplitAutoFunction(RewritePattern):
    """A function with ``auto`` parameters becomes its variants, one per choice of
    ``formats`` for each such parameter (a local rewrite of one ``func.func``)."""

    formats: list[FormatAttr | None]

    @op_type_rewrite_pattern
    def match_and_rewrite(self, fn: func.FuncOp, rewriter: PatternRewriter) -> None:
        autos = [k for k, t in enumerate(fn.function_type.inputs)
                 if (f := format_of(t)) is not None and f.kind.data == "auto"]
        if not autos:
            return
        variants = [variant(fn, dict(zip(autos, choice)))
                    for choice in itertools.product(self.formats, repeat=len(autos))]
        rewriter.replace(fn, variants, new_results=[])


@dataclass(frozen=True)
class SparseSelectFormatPass(ModulePass):
    """Replace each function with ``auto`` parameters by its per-format variants."""

    name = "sparse-select-format"
    candidates: str = DEFAULT_CANDIDATES

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        try:
            formats = [parse_format(c.strip()) for c in self.candidates.split(",") if c.strip()]
        except VerifyException as err:  # a bad pass option: unlocated, reported by the face
            raise PassError(op, f"sparse-select-format candidates: {err}") from None
        rewrite_functions(op, SplitAutoFunction(formats))


def variant(fn: func.FuncOp, choice: dict[int, FormatAttr | None]) -> func.FuncOp:
    """A copy of ``fn`` whose ``auto`` parameters take the formats of ``choice``."""
    new = fn.clone()
    name = fn.sym_name.data
    new.sym_name = StringAttr(f"{name}__" + "_".join(format_tag(f) for f in choice.values()))
    set_variant_of(new, name)
    block = new.body.block
    attrs = list(new.arg_attrs.data) if new.arg_attrs else [DictionaryAttr({})] * len(block.args)
    for k, fmt in choice.items():
        old = block.args[k]
        arg = block.insert_arg(with_format(old.type, fmt), k)
        arg.name_hint = old.name_hint
        old.replace_all_uses_with(arg)
        block.erase_arg(old)
        attrs[k] = with_auto(attrs[k], fmt)
    new.arg_attrs = ArrayAttr(attrs)
    inputs = [a.type for a in block.args]
    new.function_type = FunctionType.from_lists(inputs, list(fn.function_type.outputs))
    for inner in new.walk():
        for r in inner.results:
            f = format_of(r.type)
            if f is not None and f.kind.data == "auto":
                raise PassError(inner, "'auto' is only allowed on parameters", internal=True)
    return new

