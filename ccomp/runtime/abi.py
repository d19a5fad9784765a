"""The contract between the C-style emitters and the devices that launch their output.

It lives in the runtime because both sides need it and the runtime must not import the
emitters (a host that loads a build folder needs no compiler): the GLSL and OpenCL
emitters produce these records, the devices and the build manifest consume them.

A ``KernelSource`` is everything a host needs to run one emitted kernel without the
IR: the source text, where each ``kern.kernel`` binding goes (an SSBO binding point,
a buffer-texture unit or a uniform name in GLSL, a kernel-argument index in OpenCL), which uniforms carry buffer
dims and the launch extent, the workgroup size, and for a reduce kernel the extra
buffer of per-workgroup partials and how to combine them. It is plain data
(``dataclasses.asdict`` gives the JSON of a build manifest).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


class KernelBuildError(RuntimeError):
    """The driver rejected an emitted kernel; carries the kernel name and driver log."""

    def __init__(self, target: str, kernel: str, log: str, source: str = ""):
        super().__init__(f"{target} driver rejected kernel @{kernel}:\n{log.strip()}")
        self.target, self.kernel, self.log, self.source = target, kernel, log, source


class DeviceUnavailableError(RuntimeError):
    """No driver or device for a target on this machine; the message says what is missing."""


@dataclass(frozen=True)
class Binding:
    """One kernel parameter.

    ``arg`` is the position among the kernel's block arguments (= launch argument order;
    -1 for the partials buffer). ``slot`` is the SSBO binding point (GLSL buffers), the
    texture unit (GLSL buffers with a ``texture_format``), the kernel-argument index
    (OpenCL), or -1 (GLSL uniforms, set by ``name``). ``type`` is
    the MLIR type text, ``dtype``/``lanes`` the element storage (buffers) or the host
    scalar to pass (uniforms). ``dims`` name the uniforms/arguments carrying a buffer's
    runtime sizes, outermost first, and ``dim_slots`` their argument indices.

    ``texture_format`` (GLSL only) is empty for an SSBO; otherwise the buffer is read
    through a ``samplerBuffer``/``isamplerBuffer`` at texture unit ``slot``, a buffer
    texture over the same buffer object with this internal format (e.g. ``GL_RGBA32F``):
    on llvmpipe texel fetches are several times cheaper than SSBO loads, which cost per
    component. The buffer itself is allocated and uploaded like any other."""

    name: str
    arg: int
    kind: str  # "buffer" | "uniform"
    slot: int
    type: str
    dtype: str
    lanes: int
    access: str  # "read" | "write" | "read_write" | "none"
    dims: tuple[str, ...]
    dim_slots: tuple[int, ...]
    texture_format: str = ""


@dataclass(frozen=True)
class KernelSource:
    """One emitted kernel and its ABI.

    ``extents`` name the uniforms/arguments carrying the launch grid (x first);
    ``bases`` (GLSL only) the per-dimension offsets of a dispatch chunk, used when a
    grid needs more workgroups than one dispatch allows. ``local_size`` is fixed in
    the source, so a launch must use it and round the global size up."""

    name: str
    entry: str
    target: str
    source: str
    rank: int
    local_size: tuple[int, ...]
    bindings: tuple[Binding, ...]
    extents: tuple[str, ...]
    extent_slots: tuple[int, ...]
    bases: tuple[str, ...] = ()
    reduce: str | None = None
    partials: Binding | None = None
    result_dtype: str | None = None  # NumPy dtype of a reduce kernel's combined value
    coarsen: int = 1  # points each invocation covers along the slowest dimension
    ssbo_only: KernelSource | None = None
    """GLSL only: the same kernel emitted with storage buffers alone, for launches binding a
    buffer larger than the driver's buffer-texture limit (``GL_MAX_TEXTURE_BUFFER_SIZE``);
    present when this kernel reads some buffer as a texture. Generated with the kernel,
    so a device never needs the emitter to fall back."""

    def groups(self, grid: tuple[int, ...] | list[int]) -> tuple[int, ...]:
        """Workgroups per dimension covering ``grid`` (one partial each for a reduce)."""
        spans = [*self.local_size[:-1], self.local_size[-1] * self.coarsen]
        return tuple(-(-int(g) // span) for g, span in zip(grid, spans))


def workgroup_macro(entry: str) -> str:
    """The macro an OpenCL volume kernel (rank 3, no reduction) takes its
    ``reqd_work_group_size`` from: its body never reads the workgroup size, so a device
    may build it with ``-D<macro>=8,8,8`` and launch it in such workgroups instead of
    the ``local_size`` the backend chose (``runtime/devices/opencl.py``)."""
    return f"CCOMP_WG_{entry}"


def combine_partials(ks: KernelSource, partials: np.ndarray) -> Any:
    """Finish a reduction on the host: one partial per workgroup combined in float64
    (integers in int64, which wraps like the device's add), then cast to the yielded type.

    Returns a NumPy scalar, or a 1-D array for a vector-typed reduction."""
    assert ks.partials is not None and ks.reduce is not None and ks.result_dtype is not None
    result_dtype = np.dtype(ks.result_dtype)
    lanes = ks.partials.lanes
    p = partials.reshape(-1, lanes)
    floating = np.issubdtype(p.dtype, np.floating)
    if ks.reduce == "add":
        r = p.sum(axis=0, dtype=np.float64 if floating else np.int64)
    elif len(p) == 0:
        if floating:
            edge = np.inf if ks.reduce == "min" else -np.inf
        else:
            info = np.iinfo(result_dtype)
            edge = info.max if ks.reduce == "min" else info.min
        r = np.full(lanes, edge)
    else:
        r = p.min(axis=0) if ks.reduce == "min" else p.max(axis=0)
    r = np.asarray(r).astype(result_dtype)
    return r[0] if lanes == 1 else r
