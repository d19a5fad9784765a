"""The per-workgroup reduction tree of the C-style emitter (a mixin of
``CStyleEmitter``): how a ``reduce`` kernel folds its points into one partial per
workgroup, which the host then combines (``ccomp.runtime.abi.combine_partials``)."""

from __future__ import annotations

import math

from xdsl.dialects.builtin import IndexType, IntegerType, VectorType
from xdsl.ir import Attribute

from ccomp.backends.cstyle.types import dtype_name, element_of, is_bool, is_float, lanes_of
from ccomp.backends.cstyle.errors import EmitError
from ccomp.runtime.abi import Binding


class ReduceTree:
    """Emission of reduce kernels; relies on ``CStyleEmitter`` for naming and output."""

    def _emit_reduce(self, inside: str) -> Binding:
        """Body under the guard, then a shared-memory tree: one partial per workgroup.

        Each invocation first folds ``REDUCE_COARSEN`` points strided along the slowest
        dimension (lanes stay contiguous), so there are that many times fewer workgroups
        and barriers. Out-of-range points contribute nothing, so any grid size works; the
        host combines the partials (``ccomp.runtime.abi.combine_partials``)."""
        yielded = self.kernel.body.block.last_op.values[0].type
        if is_bool(yielded):
            raise EmitError(f"{self.target}: kernel @{self.kernel.kernel_name} reduces i1 values")
        self.red_type = self.type_name(yielded)
        exact = self.EXACT_DECL if self.exact and is_float(yielded) else ""  # see CStyleEmitter.define
        self.line(f"{exact}{self.red_type} ccomp_val = {self.identity(yielded)};")
        last, coarsen = self.rank - 1, self.REDUCE_COARSEN
        span = self.local_size[last] * coarsen
        stride = f"((ccomp_ext{last} + {span - 1}) / {span}) * {self.local_size[last]}"
        self.line(f"for (int ccomp_k = 0; ccomp_k < {coarsen}; ccomp_k++) {{")
        self.line(f"    int ccomp_gid{last} = ccomp_first + ccomp_k * {stride};")
        self.line(f"    if ({inside}) {{")
        self.depth += 2
        self.emit_block(self.kernel.body.block)
        self.depth -= 2
        self.line("    }")
        self.line("}")
        count = self.red_count = math.prod(self.local_size)
        self.line(f"int ccomp_lid = {self.local_linear_id()};")
        self.line("ccomp_red[ccomp_lid] = ccomp_val;")
        self.line(self.BARRIER)
        self.line(f"for (int s = {count // 2}; s > 0; s >>= 1) {{")
        a, b = "ccomp_red[ccomp_lid]", "ccomp_red[ccomp_lid + s]"
        self.line(f"    if (ccomp_lid < s) {a} = {self.combine(a, b, yielded)};")
        self.line(f"    {self.BARRIER}")
        self.line("}")
        group = self.group_id(self.rank - 1)
        for d in range(self.rank - 2, -1, -1):
            group = f"{self.group_id(d)} + {self.num_groups(d)} * ({group})"
        lanes = lanes_of(yielded)
        self.line("if (ccomp_lid == 0) {")
        self.line(f"    int ccomp_g = {group};")
        if lanes == 1:
            self.line("    ccomp_partials[ccomp_g] = ccomp_red[0];")
        for k in range(lanes if lanes > 1 else 0):
            self.line(f"    ccomp_partials[ccomp_g * {lanes} + {k}] = {self.comp('ccomp_red[0]', k)};")
        self.line("}")
        e = element_of(yielded)
        self.result_dtype = dtype_name(e)
        dtype = "int32" if isinstance(e, IndexType) else self.result_dtype
        return Binding("ccomp_partials", -1, "buffer", self.next_slot("buffer"), str(yielded),
                       dtype, lanes, "write", (), ())

    def identity(self, t: Attribute) -> str:
        e = element_of(t)
        if self.reduce == "add":
            lit = self.float_literal(0.0, e) if is_float(e) else self.int_literal(0, e)
        elif is_float(e):
            lit = self.float_literal(float("inf") if self.reduce == "min" else float("-inf"), e)
        else:
            bits = 63 if isinstance(e, IntegerType) and e.width.data == 64 else 31
            lit = self.int_literal((1 << bits) - 1 if self.reduce == "min" else -(1 << bits), e)
        return self.construct(t, [lit]) if isinstance(t, VectorType) else lit

    def combine(self, a: str, b: str, t: Attribute) -> str:
        if self.reduce == "add":
            return f"{a} + {b}"
        if is_float(t):  # NaN-propagating, as the reference's np.min/np.max (numeric.py)
            return self.float_min_max(self.reduce, a, b, t)
        return f"{self.reduce}({a}, {b})"
