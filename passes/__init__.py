"""ccomp's passes, one file each, named after the flag that runs them.

``get_all_passes`` maps each flag to a factory that imports the pass on demand,
as xDSL's own registry does, so a tool pays only for the passes it runs. Helpers
that are not passes (builders, kernel bodies, the illegal-dialect check) live in
:mod:`ccomp.passes.lowering`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from xdsl.passes import ModulePass

# flag -> (module under ccomp.passes, pass class)
_PASSES: dict[str, tuple[str, str]] = {
    "actor-lower": ("actor_lower", "ActorLowerPass"),
    "canonicalize": ("canonicalize", "CanonicalizePass"),  # xDSL's, with IEEE float folding
    "graph-fuse": ("graph_fuse", "GraphFusePass"),
    "graph-schedule": ("graph_schedule", "GraphSchedulePass"),
    "graph-to-kern": ("graph_to_kern", "GraphToKernPass"),
    "loop-pingpong": ("loop_pingpong", "LoopPingPongPass"),
    "partition-devices": ("partition_devices", "PartitionDevicesPass"),
    "snn-lower": ("snn_lower", "SnnLowerPass"),
    "sparse-lower": ("sparse_lower", "SparseLowerPass"),
    "sparse-select-format": ("sparse_select_format", "SparseSelectFormatPass"),
    "temporal-block": ("temporal_block", "TemporalBlockPass"),
}


def _factory(module: str, cls: str) -> Callable[[], type[ModulePass]]:
    def load() -> type[ModulePass]:
        return getattr(importlib.import_module(f"{__name__}.{module}"), cls)
    return load


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Flag name -> pass class factory, for ccomp's own passes."""
    return {flag: _factory(module, cls) for flag, (module, cls) in _PASSES.items()}
