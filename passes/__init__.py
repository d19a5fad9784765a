"""ccomp's passes, one file each, named after the flag that runs them.

``get_all_passes`` maps each flag to a factory that imports the pass on demand,
as xDSL's own registry does, so a tool pays only for the passes it runs.
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.passes import ModulePass


def _graph_fuse() -> type[ModulePass]:
    from ccomp.passes.graph_fuse import GraphFusePass
    return GraphFusePass


def _graph_to_kern() -> type[ModulePass]:
    from ccomp.passes.graph_to_kern import GraphToKernPass
    return GraphToKernPass


def _graph_schedule() -> type[ModulePass]:
    from ccomp.passes.graph_schedule import GraphSchedulePass
    return GraphSchedulePass


def _loop_pingpong() -> type[ModulePass]:
    from ccomp.passes.loop_pingpong import LoopPingPongPass
    return LoopPingPongPass


def _sparse_select_format() -> type[ModulePass]:
    from ccomp.passes.sparse_select_format import SparseSelectFormatPass
    return SparseSelectFormatPass


def _sparse_lower() -> type[ModulePass]:
    from ccomp.passes.sparse_lower import SparseLowerPass
    return SparseLowerPass


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Flag name -> pass class factory, for ccomp's own passes."""
    return {
        "graph-fuse": _graph_fuse,
        "graph-schedule": _graph_schedule,
        "graph-to-kern": _graph_to_kern,
        "loop-pingpong": _loop_pingpong,
        "sparse-lower": _sparse_lower,
        "sparse-select-format": _sparse_select_format,
    }
