"""GLSL 4.30 compute shaders from ``kern.kernel`` (the ``glsl`` target).

Each kernel becomes one shader: a ``std430`` storage buffer per buffer binding (SSBO
binding points in binding order), uniforms for scalars, buffer dims and the launch
extent, and a bounds guard, since the dispatch covers whole workgroups. vec3 buffers
are declared as ``float[]`` and accessed per component because std430 pads ``vec3``
arrays to 16 bytes while ccomp stores them packed; vec2/vec4 arrays match NumPy's
packed layout and give vector loads. ``ccomp_base<d>`` uniforms offset a dispatch
chunk, so a grid can need more workgroups than ``GL_MAX_COMPUTE_WORK_GROUP_COUNT``.

Buffers a kernel only reads, of f32 or i32 elements with 1-4 lanes, are read through
buffer textures instead (``samplerBuffer``/``isamplerBuffer`` + ``texelFetch``, one
texel per element, R32F..RGBA32F or R32I..RGBA32I over the same packed storage, vec3
included): llvmpipe pays per component for SSBO loads, and texel fetches made the
tonemap kernel ~14x and edges ~5x faster. Up to ``max_textures`` per kernel (16 is
GL 4.3's minimum of ``GL_MAX_COMPUTE_TEXTURE_IMAGE_UNITS``); the rest stay SSBOs, as
do written buffers, i64/index and f64 ones (no 64-bit texel formats).

Float semantics: GLSL 4.30 does not require IEEE behaviour on NaN and inf, and Mesa
uses that freedom unless told not to: measured on llvmpipe, ``a - a`` was 0 for an
infinite ``a``, ``a < b ? a : b`` became a NaN-dropping ``min``, and ``a * 1e-30 *
1e-10`` was reassociated. Every float local is therefore ``precise`` (GLSL 4.00: no
algebraic rewriting of what computes it), which gave the reference's results in
``tests/differential/test_edge_semantics.py``. Even ``precise`` does not stop the GLSL
front end from folding a literal zero operand (``x * 0.0`` was 0, ``x / 0.0`` was 0,
``x % 0.0`` was ``x``, for NaN and inf ``x`` too), so a float zero is written
``float(min(ccomp_ext0, 0))``: zero at run time (an extent is never negative), opaque
to the compiler, and computed once per invocation. ``min``/``max`` on NaN are undefined
in GLSL; ``float_min_max`` spells the IEEE ``minimum``/``maximum`` out.

GLSL leaves signed ``/`` and ``%`` on negative operands undefined, so ``divsi`` and
``remsi`` go through a helper with C semantics; ``math.round`` (half away from zero)
is spelled out because GLSL's ``round`` may round halves either way.

A kernel with loops counts them and reports an invocation that reached
``max_loop_iterations`` (llvmpipe's loops stop silently after 65535 per invocation;
builds are made once for any GL device, so every shader carries the count and the
device decides whether to read the report): ``ccomp/runtime/devices/gl_limits.py``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

from xdsl.dialects import arith, scf
from xdsl.dialects import math as xmath
from xdsl.dialects.builtin import Float32Type, Float64Type, IntegerType, ModuleOp, VectorType
from xdsl.ir import Attribute, Operation

from ccomp.backends.cstyle.base import CStyleEmitter, decimal, element_of, emit_module, int_text, lanes_of
from ccomp.backends.dispatch import emits
from ccomp.backends.cstyle.errors import EmitError
from ccomp.diagnostics import PassError
from ccomp.runtime.abi import KernelSource
from ccomp.runtime.devices.gl_limits import LLVMPIPE_LOOP_ITERATIONS, OVERRUN_SLOT, guard_threshold, kernel_tag
from ccomp.dialects.kern import KernelOp

_VEC = {"float": "vec", "double": "dvec", "bool": "bvec", "int": "ivec", "int64_t": "i64vec"}
_SPECIAL = {math.inf: "0x7F800000u", -math.inf: "0xFF800000u"}
_QUALIFIER = {"read": "readonly ", "write": "writeonly "}
_TEXELS = {1: "R", 2: "RG", 3: "RGB", 4: "RGBA"}
_SWIZZLE = {1: ".x", 2: ".xy", 3: ".xyz", 4: ""}  # texelFetch always gives 4 lanes
_FLOAT_ONLY = (xmath.SinOp, xmath.CosOp, xmath.TanOp, xmath.ExpOp, xmath.Exp2Op, xmath.LogOp, xmath.Log2Op,
               xmath.PowFOp, xmath.TanhOp, xmath.AtanOp, xmath.Atan2Op)  # GLSL has no double versions of these


class GLSLEmitter(CStyleEmitter):
    """Spellings of GLSL 4.30 (``#version 430``, core profile)."""

    target = "glsl"
    BARRIER = "memoryBarrierShared(); barrier();"
    REDUCE_COARSEN = 16  # barriers are dear on llvmpipe: a 2048^2 f32 sum ran at 18 MP/s, 144 at 16
    INT_TYPES = {1: "bool", 32: "int", 64: "int64_t"}
    TYPE_FEATURES = {"int64_t": "int64"}
    # ccomp_base<d> offsets a dispatch chunk (see the module docstring)
    GLOBAL_ID = "int(gl_GlobalInvocationID.{axis}) + ccomp_base{d}"
    ATOMIC_ADD = "atomicAdd({ref}, {value})"  # on an SSBO: a buffer both read and written is never a texture
    EXACT_DECL = "precise "  # GLSL 4.00+: no fusing or reassociating what computes it
    ALWAYS_EXACT = True  # IEEE results on NaN and inf (module docstring)
    LOCAL_LINEAR_ID = "int(gl_LocalInvocationIndex)"
    GROUP_ID = "(int(gl_WorkGroupID.{axis}) + ccomp_base{d} / {size})"
    NUM_GROUPS = "((ccomp_ext{d} + {last}) / {size})"
    FUNCS: ClassVar[dict[type[Operation], str]] = {
        **CStyleEmitter.FUNCS, xmath.AbsFOp: "abs", xmath.RsqrtOp: "inversesqrt",
        arith.MinnumfOp: "min", arith.MaxnumfOp: "max", xmath.RoundEvenOp: "roundEven", xmath.Atan2Op: "atan",
    }

    def __init__(self, kernel: KernelOp, local_size: tuple[int, ...], max_textures: int = 16,
                 max_loop_iterations: int | None = LLVMPIPE_LOOP_ITERATIONS):
        self.max_textures, self.units = max_textures, 0
        has_loops = any(isinstance(op, scf.ForOp) for op in kernel.walk())
        self.loop_budget = max_loop_iterations if has_loops else None
        super().__init__(kernel, local_size)
        self.bases = tuple(f"ccomp_base{d}" for d in range(self.rank))
        self.helpers: dict[str, str] = {}

    def vector_type(self, elem: Attribute, lanes: int) -> str:
        return f"{_VEC[self.scalar_type(elem)]}{lanes}"

    def storage_type(self, t: Attribute) -> Attribute:
        if isinstance(t, IntegerType) and t.width.data == 1:
            raise EmitError(f"glsl backend: buffers of i1 are not supported (kernel @{self.kernel.kernel_name})")
        return super().storage_type(t)

    def texture_format(self, t: Attribute, access: str) -> str:
        elem, lanes = element_of(t), lanes_of(t)
        if access != "read" or self.units >= self.max_textures or lanes not in _TEXELS:
            return ""
        if isinstance(elem, Float32Type):
            return f"GL_{_TEXELS[lanes]}32F"
        if isinstance(elem, IntegerType) and elem.width.data == 32:
            return f"GL_{_TEXELS[lanes]}32I"
        return ""

    def load(self, b, off: str, t: Attribute) -> str:
        if b.texture_format:
            return f"texelFetch({b.name}, {off}){_SWIZZLE[lanes_of(t)]}"
        return super().load(b, off, t)

    def uniform_expr(self, name: str, t: Attribute) -> str:
        """i64 uniforms travel as an ``ivec2`` (low, high): moderngl cannot set int64_t."""
        if isinstance(element_of(t), IntegerType) and element_of(t).width.data == 64:
            if isinstance(t, VectorType):
                raise EmitError(f"glsl backend: i64 vector uniforms are unsupported in @{self.kernel.kernel_name}")
            self.features.add("int64")
            return f"packInt2x32({name})"
        return name

    def construct(self, t: Attribute, parts: list[str]) -> str:
        return f"{self.type_name(t)}({', '.join(parts)})"

    def convert(self, expr: str, src: Attribute, dst: Attribute) -> str:
        return f"{self.type_name(dst)}({expr})"

    def as_unsigned(self, expr: str, t: Attribute) -> str:
        wide = isinstance(element_of(t), IntegerType) and element_of(t).width.data == 64
        base = "uint64_t" if wide else "uint"
        if isinstance(t, VectorType):
            base = f"{'u64vec' if wide else 'uvec'}{lanes_of(t)}"
        return f"{base}({expr})"

    def float_literal(self, value: float, t: Attribute) -> str:
        double = isinstance(t, Float64Type)
        if value == 0.0:  # a zero the compiler cannot see (module docstring)
            zero = f"{'double' if double else 'float'}(min(ccomp_ext0, 0))"
            return f"(-{zero})" if math.copysign(1.0, value) < 0 else zero
        if math.isinf(value) or math.isnan(value):
            text = f"uintBitsToFloat({_SPECIAL.get(value, '0x7FC00000u')})"
            return f"double({text})" if double else text
        return decimal(value, double) + ("lf" if double else "")

    def int_literal(self, value: int, t: Attribute) -> str:
        width = 64 if isinstance(t, IntegerType) and t.width.data == 64 else 32
        return int_text(value, width, "l" if width == 64 else "")

    def next_slot(self, role: str) -> int:
        """SSBO binding points and texture units are numbered apart, from 0 each."""
        if role == "texture":
            self.units += 1
            return self.units - 1
        if role != "buffer":
            return -1
        self.slots += 1
        return self.slots - 1

    # ---- ops whose GLSL spelling differs ----------------------------------------------
    def emit_op(self, op: Operation) -> None:
        if isinstance(op, _FLOAT_ONLY) and op.results and isinstance(element_of(op.results[0].type), Float64Type):
            # a program error, located at the call: GLSL's sin, exp, pow... take floats only
            name = op.name.removeprefix("math.").replace("powf", "pow")
            raise PassError(op, f"the glsl target has no {name}() of f64 (GLSL has no double-precision "
                                f"{name}); use -t llvm or -t opencl, or convert with f32()")
        super().emit_op(op)

    def _helper(self, t: Attribute) -> str:
        s = self.scalar_type(element_of(t))
        # C semantics on magnitudes taken as unsigned (abs(INT_MIN) wraps), and ccomp's
        # definitions where C has none: x / 0 = 0, x / -1 = -x (INT_MIN wraps).
        u = "uint" if s == "int" else f"u{s}"
        # The sign test of int64_t is (a ^ b) < 0: Mesa 22.3's llvmpipe miscompiles
        # (a < 0) != (b < 0) when b is an int widened to int64_t (-9 / int64_t(-2) gave -4).
        negative = "(a < 0) != (b < 0)" if s == "int" else f"(a ^ b) < {s}(0)"
        self.helpers[s] = (f"{s} ccomp_divsi({s} a, {s} b) {{ if (b == 0) return 0; if (b == -1) return -a; "
                           f"{s} q = {s}({u}(abs(a)) / {u}(abs(b))); return {negative} ? -q : q; }}")
        return "ccomp_divsi"

    def float_min_max(self, kind: str, a: str, b: str, t: Attribute) -> str:
        """A helper per float type, lane by lane on vectors (GLSL's ``?:`` takes a scalar
        condition). NaN and the sign of a zero are read from the bits: Mesa folded
        ``isnan`` to false where no ``precise`` result needed it (a reduction's tree)."""
        s = self.scalar_type(element_of(t))
        nan = f"ccomp_isnan_{s}"
        if s == "float":
            neg = "floatBitsToInt(a) < 0"
            self.helpers[nan] = f"bool {nan}(float a) {{ return (floatBitsToUint(a) & 0x7FFFFFFFu) > 0x7F800000u; }}"
        else:
            neg = "int(unpackDouble2x32(a).y) < 0"
            self.helpers[nan] = (f"bool {nan}(double a) {{ uvec2 w = unpackDouble2x32(a); uint h = w.y & 0x7FFFFFFFu; "
                                 "return h > 0x7FF00000u || (h == 0x7FF00000u && w.x != 0u); }")
        lt, first, second = ("<", "a", "b") if kind == "min" else (">", "b", "a")
        fn = f"ccomp_f{kind}_{s}"
        self.helpers[fn] = (f"{s} {fn}({s} a, {s} b) {{ return (a {lt} b || {nan}(a)) ? a : "
                            f"(b {lt} a || {nan}(b)) ? b : ({neg}) ? {first} : {second}; }}")
        return self.lanewise(t, fn + "({}, {})", a, b)

    @emits(arith.DivSIOp)
    def op_arith_divsi(self, op: Operation) -> None:
        fn, (a, b) = self._helper(op.result.type), (self.name(o) for o in op.operands)
        self.define(op.result, self.lanewise(op.result.type, fn + "({}, {})", a, b))

    @emits(arith.RemSIOp)
    def op_arith_remsi(self, op: Operation) -> None:
        fn, (a, b) = self._helper(op.result.type), (self.name(o) for o in op.operands)
        self.define(op.result, self.lanewise(op.result.type, "({1} == 0 || {1} == -1) ? 0 : {0} - " + fn +
                                             "({0}, {1}) * {1}", a, b))

    @emits(xmath.RoundOp)
    def op_math_round(self, op: Operation) -> None:
        a = self.name(op.operand)
        self.define(op.result, f"trunc({a}) + step(0.5, abs({a} - trunc({a}))) * sign({a})")

    # ---- the translation unit ---------------------------------------------------------
    def op_scf_for(self, op: scf.ForOp) -> None:
        """Under a loop budget, one count per entry and per iteration: what llvmpipe's
        limiter counts, or more (gl_limits)."""
        if self.loop_budget is None:
            return super().op_scf_for(op)
        self.line("ccomp_loops++;")
        start = len(self.lines)
        super().op_scf_for(op)
        head = next(k for k in range(start, len(self.lines)) if self.lines[k].lstrip().startswith("for ("))
        self.lines.insert(head + 1, "    " * (self.depth + 1) + "ccomp_loops++;")

    def _buffer_decl(self, slot: int, name: str, access: str, t: Attribute) -> str:
        elem = self.storage_type(element_of(t))
        lanes = lanes_of(t)
        decl = self.scalar_type(elem) if lanes in (1, 3) else self.vector_type(elem, lanes)
        q = _QUALIFIER.get(access, "")
        return f"layout(std430, binding = {slot}) {q}buffer {name}_buf {{ {decl} {name}[]; }};"

    def assemble(self, body: list[str]) -> str:
        args = self.kernel.body.block.args
        decls = []
        for b in self.bindings:
            t = args[b.arg].type
            if b.kind == "buffer" and b.texture_format:
                sampler = "isamplerBuffer" if b.texture_format.endswith("I") else "samplerBuffer"
                decls.append(f"layout(binding = {b.slot}) uniform {sampler} {b.name};")
                decls += [f"uniform int {d};" for d in b.dims]
            elif b.kind == "buffer":
                decls.append(self._buffer_decl(b.slot, b.name, b.access, t.element_type))
                decls += [f"uniform int {d};" for d in b.dims]
            else:
                wide = isinstance(t, IntegerType) and t.width.data == 64  # see uniform_expr
                decls.append(f"uniform {'ivec2' if wide else self.type_name(t)} {b.name};")
        decls += [f"uniform int {n};" for n in self.extents + self.bases]
        if self.reduce is not None:
            yielded = self.kernel.body.block.last_op.values[0].type
            decls.append(f"layout(std430, binding = {self.partials.slot}) writeonly buffer ccomp_partials_buf "
                         f"{{ {self.scalar_type(element_of(yielded))} ccomp_partials[]; }};")
            decls.append(f"shared {self.red_type} ccomp_red[{self.red_count}];")
        if self.loop_budget is not None:  # the count, and the overrun word the device reads
            decls.append(f"layout(std430, binding = {OVERRUN_SLOT}) buffer ccomp_overrun_buf "
                         "{ uint ccomp_overrun[]; };")
            body = ["    uint ccomp_loops = 0u;", *body,
                    f"    if (ccomp_loops >= {guard_threshold(self.loop_budget)}u) "
                    f"atomicCompSwap(ccomp_overrun[0], 0u, {kernel_tag(self.kernel.kernel_name)}u);"]
        sizes = ", ".join(f"local_size_{'xyz'[d]} = {s}" for d, s in enumerate(self.local_size))
        head = ["#version 430"]
        if "int64" in self.features:
            head.append("#extension GL_ARB_gpu_shader_int64 : require")
        head.append(f"layout({sizes}) in;")
        return "\n".join(head + decls + list(self.helpers.values()) + ["void main() {"] + body + ["}", ""])


def emit_glsl(module: ModuleOp, max_invocations: int = 1024, max_textures: int = 16,
              max_loop_iterations: int | None = LLVMPIPE_LOOP_ITERATIONS) -> dict[str, KernelSource]:
    """GLSL compute shaders for every ``kern.kernel`` in ``module``, keyed by kernel name.

    ``max_invocations`` is the driver's ``GL_MAX_COMPUTE_WORK_GROUP_INVOCATIONS``; the
    default workgroup sizes (256, 16x16, 8x8x8) are halved to fit it. ``max_textures``
    caps the read-only buffers bound as buffer textures per kernel (0: SSBOs only).

    A kernel that reads some buffer as a texture also carries its all-SSBO variant
    (``ssbo_only``), which a device runs when a buffer exceeds the driver's texel limit:
    generated here, with the kernel, so that a device never needs the emitter.
    ``max_loop_iterations``: the loop budget per invocation to report (None: no count)."""
    guard = {"max_loop_iterations": max_loop_iterations}
    sources = emit_module(module, GLSLEmitter, max_invocations, max_textures=max_textures, **guard)
    if not any(b.texture_format for ks in sources.values() for b in ks.bindings):
        return sources
    plain = emit_module(module, GLSLEmitter, max_invocations, max_textures=0, **guard)
    return {name: dataclasses.replace(ks, ssbo_only=plain[name]) if any(b.texture_format for b in ks.bindings)
            else ks for name, ks in sources.items()}
