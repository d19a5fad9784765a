"""The execution targets ccomp knows, created on demand.

Each target's device module is imported only when that target is used, so a
machine without OpenGL can still run the LLVM target.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ccomp.runtime.devices.base import Device

# target name -> (module, device class, description)
TARGETS: dict[str, tuple[str, str, str]] = {
    "llvm": ("ccomp.runtime.devices.llvm", "LLVMDevice", "native code for this CPU through LLVM (llvmlite MCJIT), all cores"),
    "opencl": ("ccomp.runtime.devices.opencl", "CLDevice", "OpenCL C kernels through pyopencl"),
    "glsl": ("ccomp.runtime.devices.gl", "GLDevice", "GLSL 4.30 compute shaders through moderngl (EGL)"),
}


class TargetUnavailable(Exception):
    """The target exists but cannot run here (no driver, no device)."""


def device_class(target: str) -> type[Device]:
    module_name, cls_name, _ = TARGETS[target]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetUnavailable(f"target '{target}' is unavailable: {exc}") from None
    return getattr(module, cls_name)


def probe(target: str) -> tuple[bool, str]:
    """(available, description or the reason it is not)."""
    try:
        device_class(target)
    except TargetUnavailable as exc:
        return False, str(exc)
    module = importlib.import_module(TARGETS[target][0])
    fn: Callable[[], tuple[bool, str]] | None = getattr(module, "probe", None)
    if fn is None:
        return True, TARGETS[target][2]
    try:
        return fn()
    except Exception as exc:  # a broken driver must not crash `ccomp targets`
        return False, f"{type(exc).__name__}: {exc}"


def create_device(target: str) -> Device:
    if target == "auto":  # a mixed placement (partition-devices): the devices it uses, behind one
        from ccomp.runtime.devices.mixed import MixedDevice
        return MixedDevice()
    try:
        return device_class(target)()
    except TargetUnavailable:
        raise
    except Exception as exc:
        ok, why = probe(target)
        others = [t for t in TARGETS if t != target and probe(t)[0]]
        raise TargetUnavailable(
            f"target '{target}' cannot start here: {why if not ok else exc}; "
            f"available targets: {', '.join(others) or 'none'}"
        ) from None
