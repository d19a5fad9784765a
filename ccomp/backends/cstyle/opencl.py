"""OpenCL C kernels from ``kern.kernel`` (the ``opencl`` target).

Each kernel becomes one ``__kernel`` function. Its arguments, in order: for every
binding a ``__global`` pointer followed by one ``int`` per buffer dim, or the scalar
itself; then one ``int`` extent per dimension; then, for a reduce kernel, the pointer
to the per-workgroup partials. ``reqd_work_group_size`` fixes the workgroup size the
runtime launches with (PoCL specialises the work-item loops on it), and the global
size is rounded up to it, hence the bounds guard.

vec2/vec4 buffers are ``float2*``/``float4*`` (vector loads; packed NumPy layout
matches), vec3 buffers are ``float*`` read with ``vload3``/``vstore3`` because
``float3`` is 16 bytes in OpenCL. OpenCL C has no bool vectors and no bool kernel
arguments or buffers: i1 vectors are ``intN`` holding 0/1, i1 arguments are ``int``,
i1 buffers are ``char``.

Entry points are at most ``MAX_ENTRY`` characters: PoCL names symbols and files after
a kernel, and a kernel of a 251-character graph aborted its linker. A longer name
keeps its first characters and gains a hash of the whole (``short_entry``), so it is
the same on every build; the runtime calls the entry ``KernelSource.entry`` records.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import ClassVar

from xdsl.dialects import arith
from xdsl.dialects import math as xmath
from xdsl.dialects.builtin import Float64Type, IntegerType, ModuleOp, VectorType
from xdsl.ir import Attribute, Operation

from ccomp.backends.cstyle.base import CStyleEmitter, decimal, element_of, emit_module, int_text, is_bool, lanes_of
from ccomp.backends.dispatch import emits
from ccomp.backends.cstyle.errors import EmitError
from ccomp.runtime.abi import KernelSource, workgroup_macro

_INTS = {1: "bool", 8: "char", 16: "short", 32: "int", 64: "long"}


MAX_ENTRY = 64


def short_entry(entry: str) -> str:
    """``entry`` if it has at most ``MAX_ENTRY`` characters, else its first characters,
    ``_h`` and 16 hex digits of its SHA-256: deterministic, and distinct for distinct names."""
    if len(entry) <= MAX_ENTRY:
        return entry
    digest = hashlib.sha256(entry.encode()).hexdigest()[:16]
    return f"{entry[: MAX_ENTRY - 18].rstrip('_')}_h{digest}"


class OpenCLEmitter(CStyleEmitter):
    """Spellings of OpenCL C 1.2."""

    target = "opencl"
    BARRIER = "barrier(CLK_LOCAL_MEM_FENCE);"
    # Wide rows: on PoCL (CPU) 64x4 ran a 2048^2 vec4 kernel at ~550 MP/s where 16x16
    # gave ~410 (work-item loops vectorise along x); 32x4x2 beat 8x8x8 likewise.
    LOCAL_SIZES: ClassVar[dict[int, tuple[int, ...]]] = {1: (256,), 2: (64, 4), 3: (32, 4, 2)}
    REDUCE_COARSEN = 8  # a 2048^2 f32 sum on PoCL: 144 MP/s at 1 point per invocation, ~540 at 8
    INT_TYPES = _INTS
    TYPE_FEATURES = {"double": "fp64"}
    GLOBAL_ID = "(int)get_global_id({d})"
    ATOMIC_ADD = "atomic_add(&{ref}, {value})"  # OpenCL 1.1+ 32-bit global atomics
    EXACT_BODY = "#pragma OPENCL FP_CONTRACT OFF"  # allowed first in a compound statement
    LOCAL_LINEAR_ID = ("(int)(get_local_id(0) + get_local_size(0) * "
                       "(get_local_id(1) + get_local_size(1) * get_local_id(2)))")
    GROUP_ID = "(int)get_group_id({d})"
    NUM_GROUPS = "(int)get_num_groups({d})"
    FUNCS: ClassVar[dict[type[Operation], str]] = {
        **CStyleEmitter.FUNCS, xmath.AbsFOp: "fabs", xmath.RsqrtOp: "rsqrt",
        arith.MinnumfOp: "fmin", arith.MaxnumfOp: "fmax", xmath.RoundOp: "round", xmath.RoundEvenOp: "rint",
        xmath.Atan2Op: "atan2",
        # PoCL's built-in integer min/max are library calls it never inlines, which
        # stops the work-item loop from vectorising (measured: tonemap's clamped reads
        # ran 2x slower than the same kernel with conditional expressions).
        arith.MinSIOp: "CCOMP_MINI", arith.MaxSIOp: "CCOMP_MAXI",
    }

    def emit(self) -> KernelSource:
        """The base emitter's kernel, with the entry ``assemble`` shortened."""
        ks = super().emit()
        return ks if ks.entry == self.entry else dataclasses.replace(ks, entry=self.entry)

    def vector_type(self, elem: Attribute, lanes: int) -> str:
        return f"{'int' if is_bool(elem) else self.scalar_type(elem)}{lanes}"

    def storage_type(self, t: Attribute) -> Attribute:
        return IntegerType(8) if is_bool(t) else super().storage_type(t)

    def construct(self, t: Attribute, parts: list[str]) -> str:
        return f"({self.type_name(t)})({', '.join(parts)})"

    def convert(self, expr: str, src: Attribute, dst: Attribute) -> str:
        if isinstance(dst, VectorType):
            return f"convert_{self.type_name(dst)}({expr})"
        return f"({self.type_name(dst)})({expr})"

    def as_unsigned(self, expr: str, t: Attribute) -> str:
        return f"as_u{self.type_name(t)}({expr})"

    def wrapping(self, sym: str, a: str, b: str, t: Attribute) -> str:
        """Unsigned arithmetic, defined modulo 2^N in C, read back bit for bit."""
        # (a shift count is masked to the width by OpenCL C itself, 6.3.j)
        return f"as_{self.type_name(t)}({self.as_unsigned(a, t)} {sym} {self.as_unsigned(b, t)})"

    def negate(self, a: str, t: Attribute) -> str:
        return f"as_{self.type_name(t)}(-{self.as_unsigned(a, t)})"

    def float_min_max(self, kind: str, a: str, b: str, t: Attribute) -> str:
        """``CCOMP_FMIN``/``CCOMP_FMAX`` (defined in ``assemble``): comparisons, ``isnan``
        and ``signbit`` work lane by lane on vectors, and ``?:`` selects per lane."""
        return f"CCOMP_F{kind.upper()}({a}, {b})"

    def uniform_expr(self, name: str, t: Attribute) -> str:
        if is_bool(t) and isinstance(t, VectorType):
            raise EmitError(f"opencl backend: i1 vector arguments are unsupported (kernel @{self.kernel.kernel_name})")
        return f"({name} != 0)" if is_bool(t) else name

    def float_literal(self, value: float, t: Attribute) -> str:
        double = isinstance(t, Float64Type)
        if math.isinf(value) or math.isnan(value):
            text = "NAN" if math.isnan(value) else ("INFINITY" if value > 0 else "(-INFINITY)")
            return f"((double){text})" if double else text
        text = decimal(value, double)  # "(-0.5)" when negative: the suffix goes inside
        return text if double else f"{text[:-1]}f)" if text.endswith(")") else f"{text}f"

    def int_literal(self, value: int, t: Attribute) -> str:
        width = t.width.data if isinstance(t, IntegerType) else 32
        text = int_text(value, max(width, 32), "L" if width == 64 else "")
        return f"({_INTS[width]}){text}" if width in (8, 16) else text

    def load(self, b, off: str, t: Attribute) -> str:
        if lanes_of(t) != 3:
            return super().load(b, off, t)
        stored = self.storage_type(element_of(t))
        value = f"vload3({off}, {b.name})"
        return value if stored == element_of(t) else f"convert_{self.type_name(t)}({value})"

    def store(self, b, off: str, value: str, t: Attribute) -> None:
        if lanes_of(t) != 3:
            return super().store(b, off, value, t)
        stored = self.storage_type(element_of(t))
        if stored != element_of(t):
            value = f"convert_{self.scalar_type(stored)}3({value})"
        self.line(f"vstore3({value}, {off}, {b.name});")

    # ---- the translation unit ---------------------------------------------------------
    @emits(arith.DivSIOp)
    def op_arith_divsi(self, op: Operation) -> None:
        """x / 0 = 0 and INT_MIN / -1 wraps (a negation in unsigned arithmetic), as on
        every other target (C leaves both undefined)."""
        a, b = (self.name(o) for o in op.operands)
        self.define(op.result, f"CCOMP_DIVI({a}, {b}, {self.negate(a, op.result.type)})")

    @emits(arith.RemSIOp)
    def op_arith_remsi(self, op: Operation) -> None:
        a, b = (self.name(o) for o in op.operands)
        self.define(op.result, f"CCOMP_REMI({a}, {b})")

    def _pointer(self, name: str, access: str, t: Attribute) -> str:
        elem, lanes = self.storage_type(element_of(t)), lanes_of(t)
        decl = self.scalar_type(elem) if lanes in (1, 3) else f"{self.scalar_type(elem)}{lanes}"
        return f"__global {'const ' if access == 'read' else ''}{decl}* {name}"

    def assemble(self, body: list[str]) -> str:
        args = self.kernel.body.block.args
        params: list[tuple[int, str]] = []
        for b in self.bindings:
            t = args[b.arg].type
            if b.kind == "buffer":
                params.append((b.slot, self._pointer(b.name, b.access, t.element_type)))
                params += [(s, f"int {d}") for s, d in zip(b.dim_slots, b.dims)]
            else:
                params.append((b.slot, f"{'int' if is_bool(t) else self.type_name(t)} {b.name}"))
        params += [(s, f"int {n}") for s, n in zip(self.extent_slots, self.extents)]
        self.entry = short_entry(self.entry)  # read back by ``emit``
        head = ["#ifndef CCOMP_MINI",
                "#define CCOMP_MINI(a, b) ((a) < (b) ? (a) : (b))",
                "#define CCOMP_MAXI(a, b) ((a) > (b) ? (a) : (b))",
                "#define CCOMP_DIVI(a, b, neg) ((b) == 0 ? 0 : (b) == -1 ? (neg) : (a) / (b))",
                # IEEE 754-2019 minimum/maximum (see numeric.py)
                "#define CCOMP_FMIN(a, b) ((a) < (b) || isnan(a) ? (a) : (b) < (a) || isnan(b) ? (b) "
                ": signbit(a) ? (a) : (b))",
                "#define CCOMP_FMAX(a, b) ((a) > (b) || isnan(a) ? (a) : (b) > (a) || isnan(b) ? (b) "
                ": signbit(a) ? (b) : (a))",
                "#define CCOMP_REMI(a, b) ((b) == 0 || (b) == -1 ? 0 : (a) % (b))",
                "#endif",
                # no fused multiply-adds (OpenCL C's default is ON): every + and * rounds
                # once, as on llvm and in the reference, so results agree bit for bit
                "#pragma OPENCL FP_CONTRACT OFF"]
        if self.reduce is not None:
            yielded = self.kernel.body.block.last_op.values[0].type
            params.append((self.partials.slot, f"__global {self.scalar_type(element_of(yielded))}* ccomp_partials"))
            body = [f"    __local {self.red_type} ccomp_red[{self.red_count}];"] + body
        if "fp64" in self.features:
            head.append("#pragma OPENCL EXTENSION cl_khr_fp64 : enable")
        size = ", ".join(str(s) for s in (*self.local_size, 1, 1)[:3])
        signature = ",\n    ".join(p for _, p in sorted(params))
        if self.rank == 3 and self.reduce is None:
            # a volume's body never reads its workgroup size, so the device may choose
            # another (8x8x8 on a GPU: runtime/devices/opencl.py) by defining this macro
            macro = workgroup_macro(self.entry)
            head += [f"#ifndef {macro}", f"#define {macro} {size}", "#endif"]
            size = macro
        head += [f"__kernel __attribute__((reqd_work_group_size({size})))",
                 f"void {self.entry}(\n    {signature})", "{"]
        return "\n".join(head + body + ["}", ""])


def emit_opencl(module: ModuleOp, max_work_group_size: int = 1024) -> dict[str, KernelSource]:
    """OpenCL C kernels for every ``kern.kernel`` in ``module``, keyed by kernel name.

    ``max_work_group_size`` is the device's limit; the default workgroup sizes (256,
    64x4, 32x4x2) are halved to fit it."""
    return emit_module(module, OpenCLEmitter, max_work_group_size)
