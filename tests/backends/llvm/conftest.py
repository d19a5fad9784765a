"""Fixtures for the LLVM backend tests: JIT devices shared by the whole session.
Helpers live in ``llvm_testutil.py`` (a unique module name: several test folders have
a ``conftest.py``, so ``from conftest import ...`` could find another folder's)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ccomp.runtime.devices.llvm import LLVMDevice

sys.path.insert(0, str(Path(__file__).parent))  # for llvm_testutil.py and llvm_tonemap.py


_DEVICES: dict[str, LLVMDevice] = {}


@pytest.fixture(scope="session", params=["wide", "narrow"])
def device(request) -> LLVMDevice:
    """The device under test, once with x-widening (the default) and once without,
    so that both code paths of every kernel are checked."""
    if request.param not in _DEVICES:
        _DEVICES[request.param] = LLVMDevice(widen=request.param == "wide")
    return _DEVICES[request.param]
