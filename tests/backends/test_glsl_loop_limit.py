"""llvmpipe's loop limiter, measured on raw shaders, and the count the glsl emitter
adds so that a cut loop becomes an error (``ccomp/runtime/devices/gl_limits.py``).

The raw-shader tests pin the facts the guard relies on (one budget of 65535 per
invocation, shared by all loops, constant bounds cut too, loops exit silently and the
code after them runs); they run only where the renderer is llvmpipe."""

from __future__ import annotations

import numpy as np
import pytest

from ccomp.api import compile_to_kern, generate
from ccomp.diagnostics import Source
from ccomp.runtime.devices import gl
from ccomp.runtime.devices.gl_limits import LLVMPIPE_LOOP_ITERATIONS, max_loop_iterations

AVAILABLE, WHY = gl.probe()
LLVMPIPE = AVAILABLE and max_loop_iterations(WHY) is not None
needs_llvmpipe = pytest.mark.skipif(not LLVMPIPE, reason=f"not llvmpipe: {WHY}")


@pytest.fixture(scope="module")
def ctx():
    c = gl._context()
    yield c
    c.release()


def counts(ctx, body: str, invocations: int = 1, local: int = 1) -> np.ndarray:
    """Run ``body`` (which counts into ``c`` and ``d``, with ``N`` = 100000) and return
    each invocation's (c, d)."""
    src = (f"#version 430\nlayout(local_size_x = {local}) in;\n"
           "layout(std430, binding = 0) buffer O { uint o[]; };\nuniform uint N;\n"
           "void main() { uint c = 0u; uint d = 0u; uint n = N;\n" + body +
           "\n uint g = gl_GlobalInvocationID.x; o[2u * g] = c; o[2u * g + 1u] = d; }")
    shader = ctx.compute_shader(src)
    out = ctx.buffer(reserve=8 * invocations * local)
    out.bind_to_storage_buffer(0)
    if "N" in shader:
        shader["N"] = 100_000
    shader.run(invocations)
    ctx.finish()
    result = np.frombuffer(out.read(), np.uint32).reshape(-1, 2).copy()
    out.release()
    return result


@needs_llvmpipe
def test_one_loop_stops_at_the_budget_silently(ctx):
    (c, _), = counts(ctx, "for (uint i = 0u; i < n; i++) c++;")
    assert c == LLVMPIPE_LOOP_ITERATIONS  # not 100000, and the store after the loop ran


@needs_llvmpipe
def test_constant_bounds_are_cut_too(ctx):
    (c, _), = counts(ctx, "for (uint i = 0u; i < 100000u; i++) c++;")
    assert c == LLVMPIPE_LOOP_ITERATIONS


@needs_llvmpipe
def test_the_budget_is_shared_by_every_loop_of_an_invocation(ctx):
    (c, d), = counts(ctx, "for (uint i = 0u; i < n - 60000u; i++) c++;\nfor (uint i = 0u; i < n - 60000u; i++) d++;")
    assert c == 40_000 and d < 40_000
    assert c + d + 1 == LLVMPIPE_LOOP_ITERATIONS  # the first loop's exit costs one too


@needs_llvmpipe
def test_nested_loops_count_every_iteration(ctx):
    (c, d), = counts(ctx, "for (uint i = 0u; i < n / 100u; i++) { for (uint j = 0u; j < 100u; j++) c++; d++; }")
    assert c + d < LLVMPIPE_LOOP_ITERATIONS < 100_000  # cut after about 650 of 1000 outer turns
    assert 600 < d < 700


@needs_llvmpipe
def test_the_budget_is_per_invocation_not_per_workgroup(ctx):
    got = counts(ctx, "for (uint i = 0u; i < n / 2u; i++) c++;", invocations=2, local=64)
    assert (got[:, 0] == 50_000).all()  # 128 invocations x 50,000: nothing cut


def test_the_capability_follows_the_renderer():
    assert max_loop_iterations("llvmpipe (LLVM 15.0.6, 256 bits)") == 65535
    assert max_loop_iterations("NVIDIA GeForce RTX 4090/PCIe/SSE2") is None
    assert max_loop_iterations("AMD Radeon RX 7900 XTX (radeonsi, navi31, LLVM 15.0.7, DRM 3.54)") is None


MATVEC = "fn f(A: tensor<?x?xf32>, v: tensor<?xf32>) -> tensor<?xf32> {\n    return A @ v\n}\n"
SCALE = "graph g(a: image<f32>) -> image<f32> {\n    return a * 2.0\n}\n"


def shaders(text: str, **options) -> dict:
    source = Source(text, "<loops>")
    return generate(compile_to_kern(source, target="glsl"), "glsl", **options)


def test_a_kernel_with_loops_counts_them_and_reports_an_overrun():
    (ks,) = shaders(MATVEC).values()
    assert "uint ccomp_loops = 0u;" in ks.source
    assert ks.source.count("ccomp_loops++;") == 2  # the row loop's entry and each turn
    assert "atomicCompSwap(ccomp_overrun[0]" in ks.source
    (plain,) = shaders(MATVEC, max_loop_iterations=None).values()
    assert "ccomp_loops" not in plain.source


def test_a_kernel_without_loops_carries_no_count():
    assert all("ccomp_loops" not in ks.source for ks in shaders(SCALE).values())
