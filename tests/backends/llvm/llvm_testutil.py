"""Helpers for the LLVM backend tests: compile hand-written kern IR on a device and run
one kernel on NumPy arrays; seeded random inputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ccomp.api import prepare
from ccomp.dialects.context import parse_module
from ccomp.runtime.devices.llvm import LLVMDevice


def run_kernel(device: LLVMDevice, text: str, kernel: str, grid: Sequence[int], args: Sequence[Any]) -> Any:
    """Compile ``text`` on ``device`` and launch ``kernel``; arrays in ``args`` are
    passed as buffers (kernels write outputs into them in place)."""
    prepare(device, parse_module(text))
    return device.launch(kernel, grid, args)


def f32(*shape: int, lo: float = -2.0, hi: float = 2.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)


def i32(*shape: int, lo: int = -1000, hi: int = 1000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(lo, hi, shape).astype(np.int32)
