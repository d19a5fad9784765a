"""``ccomp build --emit dot``: the picture of the graph and of the kernel schedule,
parsed back with pydot and checked for its structure (clusters, nodes, edges)."""

from __future__ import annotations

import pytest

from ccomp.api import load_source
from ccomp.diagnostics import CompileError
from ccomp.driver.dot import program_dot
from cliutil import ROOT
from dotutil import Picture, parse_picture


def picture(name: str, target: str = "llvm", function: str | None = None) -> Picture:
    return parse_picture(program_dot(load_source(ROOT / "examples" / name), target, function))


def text_picture(text: str, target: str = "llvm") -> Picture:
    return parse_picture(program_dot(load_source(text), target))


def halves(p: Picture):
    graph, schedule = p.root.children
    assert graph.label.startswith("graph (") and schedule.label.startswith("schedule (-t ")
    return graph, schedule


def test_heat_graph_has_repeat_cluster_holding_one_fusion_group():
    p = picture("heat.cn")
    graph, _ = halves(p)
    (repeat,) = graph.find("repeat (u)")
    (group,) = repeat.find("fusion group")
    assert [l.split("\n")[0] for l in group.labels()] == ["capture", "map (23 ops)"]
    assert "state u\nimage<f32>" in repeat.nodes.values()
    assert ("capture\nimage<f32>", "state u\nimage<f32>", "next") in p.edges  # the loop-carried edge
    assert ("u0\nimage<f32>", "state u\nimage<f32>", "init") in p.edges
    assert ("state u\nimage<f32>", "out\nimage<f32>", "") in p.edges  # the result is the last state


def test_heat_schedule_on_opencl_is_one_host_loop_of_pingpong_swaps():
    _, schedule = halves(p := picture("heat.cn", "opencl"))
    (loop,) = schedule.find("host loop")
    launches = [l for l in loop.labels() if l.startswith("kernel ")]
    assert launches == ["kernel heat_0\nrank 2"]
    slots = [l for l in loop.nodes.values() if l.startswith("slot")]
    assert len(slots) == 3  # the state and the two buffers it swaps between
    swaps = p.edges_labelled("swap")
    assert len(swaps) == 3 and all(t.startswith("slot") and h.startswith("slot") for t, h, _ in swaps)
    assert ("kernel heat_0\nrank 2", slots[1], "writes") in p.edges
    assert ("slot u\nmemref<?x?xf32>", "kernel heat_0\nrank 2", "") in p.edges  # reads the state
    assert sum(l.startswith("input u0") for l in schedule.labels()) == 1


def test_heat_schedule_on_llvm_shows_the_temporally_blocked_loop_first():
    _, schedule = halves(picture("heat.cn", "llvm"))
    loops = schedule.find("host loop")
    assert [[l.split("\n")[0] for l in c.labels() if l.startswith("kernel")] for c in loops] == [
        ["kernel heat_0_tb8"], ["kernel heat_0"]]


def test_tonemap_chain_is_one_fusion_group_and_one_kernel():
    p = picture("tonemap.cn")
    graph, schedule = halves(p)
    (group,) = graph.find("fusion group")
    heads = sorted(l.split("\n")[0] for l in group.labels())
    assert heads == ["capture", "lifted = map (6 ops)", "lum = map (3 ops)", "map (11 ops)", "soft = blur r=1"]
    assert ("src\nimage<vec4>", "soft = blur r=1\nfield<vec4>", "") in p.edges
    assert ("gain\nf32", "lifted = map (6 ops)\nfield<vec4>", "") in p.edges  # a uniform read by the map
    assert [l for l in schedule.labels() if l.startswith("kernel")] == ["kernel tonemap_0\nrank 2"]
    assert not schedule.find("host loop")
    chain = [("input src\nmemref<?x?xvec4>", "kernel tonemap_0\nrank 2", ""),
             ("kernel tonemap_0\nrank 2", "buffer\nmemref<?x?xvec4>", "writes"),
             ("buffer\nmemref<?x?xvec4>", "output out", "")]
    assert all(e in p.edges for e in chain)


def test_edges_has_two_kernels_and_a_reduction_output():
    p = picture("edges.cn")
    graph, schedule = halves(p)
    groups = graph.find("fusion group")
    assert [g.label for g in groups] == ["fusion group 0: one kernel", "fusion group 1: one kernel"]
    assert sorted(l.split("\n")[0] for l in groups[0].labels()) == ["blur r=2", "g = capture"]
    assert "reduce mean" in [l.split("\n")[0] for l in groups[1].labels()]
    kernels = sorted(l for l in schedule.labels() if l.startswith("kernel"))
    assert kernels == ["kernel edges_0\nrank 2", "kernel edges_1\nrank 2"]
    outputs = {h: t for t, h, _ in p.edges if h.startswith("output")}
    assert outputs["output mean_mag"] == "f32" and outputs["output mag"].startswith("buffer")
    assert ("kernel edges_1\nrank 2", "f32", "reduces") in p.edges


RECOMPUTED = """
graph twice(src: image<f32>) -> image<f32> {
    let f = blur(src, 1) * 2.0
    let a = capture(f)
    return a[x+1, y] + f
}
"""


def test_a_producer_spliced_into_two_kernels_is_drawn_once_and_says_so():
    graph, schedule = halves(p := text_picture(RECOMPUTED))
    groups = graph.find("fusion group")
    assert len(groups) == 2
    drawn = [l for l in graph.labels() if l.startswith("f = map")]
    assert len(drawn) == 1 and drawn[0].endswith("(recomputed in 2 kernels)")
    assert sum(l.startswith("kernel") for l in schedule.labels()) == 2
    assert any(h.startswith("kernel twice_1") and t.startswith("buffer") for t, h, _ in p.edges)


NESTED = """
graph nest(src: image<f32>, n: i32 = 3) -> image<f32> {
    return repeat n (u = src) {
        yield repeat 2 (v = u) { yield v * 0.5 + 1.0 }
    }
}
"""


def test_nested_repeat_zones_are_nested_clusters_on_every_level():
    graph, schedule = halves(text_picture(NESTED, "opencl"))
    (outer,) = graph.find("repeat (u)")
    assert [c.label for c in outer.children] == ["repeat (v)"]
    (inner,) = outer.children
    assert [c.label for c in inner.children] == ["fusion group 0: one kernel"]
    (host_outer,) = [c for c in schedule.children[0].children if c.label.startswith("host loop")]
    (host_inner,) = host_outer.children
    assert host_inner.label.startswith("host loop") and "kernel nest_0\nrank 2" in host_inner.nodes.values()


def test_fn_program_draws_its_sparse_ops():
    graph, schedule = halves(picture("spmv.cn"))
    assert any("matvec" in l for l in graph.labels())
    assert any(l.startswith("kernel") for l in schedule.labels())


def test_unknown_function_is_a_user_error():
    with pytest.raises(CompileError, match="no graph or fn named 'nope'"):
        picture("heat.cn", function="nope")
