"""temporal-block's decisions: the stencil analysis, the cost rule, and how the
pipeline spec carries the option (results are checked in tests/differential)."""

from __future__ import annotations

import pytest
from xdsl.passes import PassPipeline

from ccomp.diagnostics import Source
from ccomp.dialects import kern
from ccomp.driver.pipeline import TEMPORAL_BLOCK_ENV, available_passes, lower, pipeline_spec
from ccomp.frontend import lower_to_l1
from ccomp.passes.lowering.stencil import match_stencil
from ccomp.passes.temporal_block import CACHE_BYTES, blocking_cost, choose_blocking


def kernels(src: str) -> dict[str, kern.KernelOp]:
    module = lower(lower_to_l1(Source(src, "<test>")), "kern")
    return {op.kernel_name: op for op in module.walk() if isinstance(op, kern.KernelOp)}


def body(expr: str) -> str:
    return f"graph g(u0: image<f32>, n: i32) -> image<f32> {{ return repeat n (u = u0) {{ yield {expr} }} }}"


@pytest.fixture(autouse=True)
def no_override(monkeypatch):
    monkeypatch.setenv(TEMPORAL_BLOCK_ENV, "k=0")  # analyse the unblocked kernels


@pytest.mark.parametrize("expr,radius", [
    ("u * 0.5", 0),
    ("u[x-1, y] + u[x+1, y]", 1),
    ("u[x-1, y-1] + u[x+1, y+1]", 1),
    ("u[x, y-3] * 0.5 + u[x+2, y]", 3),
])
def test_stencils_and_their_radius(expr, radius) -> None:
    st = match_stencil(kernels(body(expr))["g_0"], 0, 1)
    assert st is not None and st.radius == radius


def test_x_clamps_are_the_shifted_x_reads() -> None:
    st = match_stencil(kernels(body("u[x-1, y] + u[x+1, y] + u[x, y+1]"))["g_0"], 0, 1)
    # x-1, x+1 and the x of u[x, y+1] are each clamped below and above (6 ops, all
    # the identity within the radius); y+1's clamps are not x clamps
    assert st is not None and len(st.x_clamps) == 6
    assert all(op.results[0].type == st.x_clamps[op].type for op in st.x_clamps)


def test_wrong_bindings_are_not_a_stencil() -> None:
    k = kernels(body("u[x-1, y] + u"))["g_0"]
    assert match_stencil(k, 1, 0) is None  # the kernel writes binding 1, it does not read it


def test_cost_rule() -> None:
    steps, tile, tile_x = choose_blocking(1, 4)
    grown = 2 * (steps - 1)
    assert steps >= 2 and tile_x >= tile and 2 * (tile + grown) * (tile_x + grown) * 4 <= CACHE_BYTES
    # more steps per pass cut memory traffic; over-large halos cost more than they save;
    # at equal area, wider tiles have fewer rows to set up
    assert blocking_cost(4, 128, 1) < blocking_cost(2, 128, 1)
    assert blocking_cost(8, 32, 8) > blocking_cost(8, 128, 8)
    assert blocking_cost(8, 128, 1, 512) < blocking_cost(8, 256, 1)
    # a radius so large that no tile's scratch planes fit the cache: no blocking
    assert choose_blocking(200, 4) is None


def test_option_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(TEMPORAL_BLOCK_ENV, "k=4 tile=64")
    for target in ("llvm", "opencl", "glsl"):
        passes = PassPipeline.parse_spec(available_passes(), pipeline_spec(target)).passes
        tb = next(p for p in passes if p.name == "temporal-block")
        assert (tb.k, tb.tile) == (4, 64)
    monkeypatch.delenv(TEMPORAL_BLOCK_ENV)
    passes = {t: next(p for p in PassPipeline.parse_spec(available_passes(), pipeline_spec(t)).passes
                      if p.name == "temporal-block") for t in ("llvm", "opencl", "glsl")}
    assert passes["llvm"].k == -1 and passes["opencl"].k == passes["glsl"].k == 0
