"""The ``glsl`` device: GLSL compute shaders through a moderngl standalone context.

The context is created with ``backend="egl"`` and OpenGL 4.3 (compute shaders), so it
runs headless: on a machine without a GPU Mesa's llvmpipe executes the shaders on the
CPU. Buffers are SSBOs; ``launch`` binds them at the binding points ``emit_glsl``
assigned, sets the dims/extent uniforms, dispatches whole workgroups (the shader
guards the overhang) and issues a memory barrier, so the next dispatch or a download
sees the writes. Grids needing more workgroups than the driver's per-dispatch limit
are dispatched in chunks offset by the ``ccomp_base<d>`` uniforms.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects.builtin import MemRefType, ModuleOp

from ccomp.backends.glsl import emit_glsl
from ccomp.backends.kernel_abi import DeviceUnavailableError, KernelBuildError, KernelSource, combine_partials
from ccomp.runtime.device import Device, array_shape, element_layout

try:  # never fatal at import: probe() must report a missing driver
    import moderngl

    _IMPORT_ERROR = ""
except ImportError as e:  # pragma: no cover - moderngl is a dependency
    moderngl, _IMPORT_ERROR = None, str(e)

log = logging.getLogger(__name__)


def _context() -> Any:
    """A headless OpenGL >= 4.3 context, or ``DeviceUnavailableError`` saying why not."""
    if moderngl is None:  # pragma: no cover - moderngl is a dependency
        raise DeviceUnavailableError(f"glsl: moderngl cannot be imported ({_IMPORT_ERROR})")
    try:
        return moderngl.create_standalone_context(backend="egl", require=430)
    except Exception as e:
        raise DeviceUnavailableError(
            f"glsl: no OpenGL 4.3 context through EGL (needs an EGL driver, e.g. Mesa's llvmpipe): {e}"
        ) from e


def probe() -> tuple[bool, str]:
    """Whether the glsl target can run here, and the GL renderer/version or the reason."""
    try:
        ctx = _context()
    except DeviceUnavailableError as e:
        return False, str(e)
    try:
        return True, f"{ctx.info['GL_RENDERER']}, OpenGL {ctx.info['GL_VERSION']}"
    finally:
        ctx.release()


@dataclass
class GLBuffer:
    """A device buffer: the SSBO plus the memref type and runtime dims it holds."""

    buffer: Any
    memref: MemRefType
    dims: tuple[int, ...]
    nbytes: int


class GLDevice(Device):
    """Runs ``kern.kernel`` ops as GLSL compute shaders (see the module docstring)."""

    name = "glsl"

    def __init__(self) -> None:
        self.ctx = _context()
        info = self.ctx.info
        self.max_invocations = int(info["GL_MAX_COMPUTE_WORK_GROUP_INVOCATIONS"])
        self.max_groups = tuple(int(n) for n in info["GL_MAX_COMPUTE_WORK_GROUP_COUNT"])
        self.max_block = int(info["GL_MAX_SHADER_STORAGE_BLOCK_SIZE"])
        self.kernels: dict[str, tuple[KernelSource, Any]] = {}
        log.debug("glsl device: %s, OpenGL %s", info["GL_RENDERER"], info["GL_VERSION"])

    def prepare(self, module: ModuleOp) -> None:
        self.load(module, self.emit(module))

    def emit(self, module: ModuleOp) -> dict[str, KernelSource]:
        return emit_glsl(module, self.max_invocations)

    def load(self, module: ModuleOp, sources: dict[str, KernelSource]) -> None:
        for ks in sources.values():
            self.compile(ks)

    def compile(self, ks: KernelSource) -> None:
        """Compile one emitted shader; a driver rejection names the kernel and its log."""
        try:
            shader = self.ctx.compute_shader(ks.source)
        except moderngl.Error as e:
            raise KernelBuildError("glsl", ks.name, str(e), ks.source) from e
        self.kernels[ks.name] = (ks, shader)

    # ---- buffers ------------------------------------------------------------------------
    def _nbytes(self, memref: MemRefType, dims: Sequence[int]) -> int:
        layout = element_layout(memref.element_type)
        n = int(np.prod(dims, dtype=np.int64)) * layout.lanes * layout.dtype.itemsize
        if n > self.max_block:
            raise MemoryError(
                f"glsl: a {memref} buffer of dims {tuple(dims)} needs {n} bytes; this driver's "
                f"storage buffers hold at most {self.max_block} (GL_MAX_SHADER_STORAGE_BLOCK_SIZE)"
            )
        return n

    def alloc(self, memref: MemRefType, dims: Sequence[int]) -> GLBuffer:
        n = self._nbytes(memref, dims)
        return GLBuffer(self.ctx.buffer(reserve=max(n, 16)), memref, tuple(int(d) for d in dims), n)

    def upload(self, memref: MemRefType, array: np.ndarray) -> GLBuffer:
        dims = tuple(array.shape[: memref.get_num_dims()])
        n = self._nbytes(memref, dims)
        data = np.ascontiguousarray(array, dtype=element_layout(memref.element_type).dtype)
        buffer = self.ctx.buffer(data if n else bytes(16))
        return GLBuffer(buffer, memref, dims, n)

    def download(self, buffer: GLBuffer) -> np.ndarray:
        layout = element_layout(buffer.memref.element_type)
        out = np.empty(array_shape(buffer.memref, buffer.dims), dtype=layout.dtype)
        if buffer.nbytes:
            buffer.buffer.read_into(out, size=buffer.nbytes)
        return out

    def release(self, buffer: GLBuffer) -> None:
        buffer.buffer.release()

    # ---- launches -----------------------------------------------------------------------
    @staticmethod
    def _set(shader: Any, name: str, value: Any) -> None:
        if name in shader:  # the GLSL compiler drops unused uniforms
            shader[name].value = value

    def launch(self, kernel: str, grid: Sequence[int], args: Sequence[Any]) -> Any:
        ks, shader = self.kernels[kernel]
        for b, arg in zip(ks.bindings, args, strict=True):
            if b.kind == "buffer":
                arg.buffer.bind_to_storage_buffer(b.slot)
                for name, d in zip(b.dims, arg.dims):
                    self._set(shader, name, int(d))
            elif b.dtype == "int64":  # declared ivec2 (low, high) by the emitter
                self._set(shader, b.name, tuple(np.asarray(arg, dtype=np.int64).reshape(1).view(np.int32).tolist()))
            elif b.lanes > 1:
                self._set(shader, b.name, tuple(np.asarray(arg, dtype=b.dtype).tolist()))
            else:
                self._set(shader, b.name, np.asarray(arg, dtype=b.dtype).item())
        for name, g in zip(ks.extents, grid):
            self._set(shader, name, int(g))
        groups = ks.groups(grid)
        partials = None
        if ks.partials is not None:
            count = int(np.prod(groups)) * ks.partials.lanes
            partials = self.ctx.buffer(reserve=max(count * np.dtype(ks.partials.dtype).itemsize, 16))
            partials.bind_to_storage_buffer(ks.partials.slot)
        if all(groups):
            self._dispatch(ks, shader, groups)
        if partials is None:
            return None
        count = int(np.prod(groups)) * ks.partials.lanes
        data = partials.read(size=count * np.dtype(ks.partials.dtype).itemsize) if count else b""
        values = np.frombuffer(data, ks.partials.dtype)
        partials.release()
        return combine_partials(ks, values)

    def _dispatch(self, ks: KernelSource, shader: Any, groups: tuple[int, ...]) -> None:
        """Dispatch ``groups`` workgroups in chunks the driver accepts, with a barrier after each."""
        chunks = [range(0, g, self.max_groups[d]) for d, g in enumerate(groups)]
        for start in itertools.product(*chunks):
            for d, s in enumerate(start):
                self._set(shader, ks.bases[d], s * ks.local_size[d])
            size = [min(self.max_groups[d], groups[d] - s) for d, s in enumerate(start)]
            shader.run(*size, *([1] * (3 - len(size))))
            self.ctx.memory_barrier()
