"""Shared fixtures for the LLVM backend tests: one JIT device per session, and a helper
that parses hand-written kern IR, compiles it and runs one kernel on NumPy arrays."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ccomp.ir import parse_module
from ccomp.runtime.llvm import LLVMDevice

sys.path.insert(0, str(Path(__file__).parent))  # for tonemap.py


_DEVICES: dict[str, LLVMDevice] = {}


@pytest.fixture(scope="session", params=["wide", "narrow"])
def device(request) -> LLVMDevice:
    """The device under test, once with x-widening (the default) and once without,
    so that both code paths of every kernel are checked."""
    if request.param not in _DEVICES:
        _DEVICES[request.param] = LLVMDevice(widen=request.param == "wide")
    return _DEVICES[request.param]


@pytest.fixture(scope="session")
def serial_device() -> LLVMDevice:
    return LLVMDevice(threads=1)


def run_kernel(device: LLVMDevice, text: str, kernel: str, grid: Sequence[int], args: Sequence[Any]) -> Any:
    """Compile ``text`` on ``device`` and launch ``kernel``; arrays in ``args`` are
    passed as buffers (kernels write outputs into them in place)."""
    device.prepare(parse_module(text))
    return device.launch(kernel, grid, args)


def f32(*shape: int, lo: float = -2.0, hi: float = 2.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)


def i32(*shape: int, lo: int = -1000, hi: int = 1000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(lo, hi, shape).astype(np.int32)
