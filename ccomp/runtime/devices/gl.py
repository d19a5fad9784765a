"""The ``glsl`` device: GLSL compute shaders through a moderngl standalone context.

The context is created with ``backend="egl"`` and OpenGL 4.3 (compute shaders), so it
runs headless: on a machine without a GPU Mesa's llvmpipe executes the shaders on the
CPU. The device compiles GLSL the backend generated (``KernelSource``), in memory or
read back from a build folder. Buffers are GL buffer objects; ``launch`` binds each as
an SSBO, or as a buffer texture over the same storage for the read-only ones the
emitter chose, at the
binding point or texture unit it assigned, sets the dims/extent uniforms, dispatches
whole workgroups (the shader guards the overhang) and issues a memory barrier, so the
next dispatch or a download sees the writes. Grids needing more workgroups than the
driver's per-dispatch limit are dispatched in chunks offset by ``ccomp_base<d>``.

How a launch is issued, and prepared once for a repeat zone, is in ``gl_launch.py``
(``GLLaunches``, which ``GLDevice`` mixes in). Every method touching GL runs with the
device's context current (``current``, ``held``): moderngl issues calls to whatever context is
current, so with two devices alive (two glsl Programs) one would otherwise run the
other's context and read garbage.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from xdsl.dialects.builtin import MemRefType, ModuleOp

from ccomp.runtime.abi import DeviceUnavailableError, KernelBuildError, KernelSource
from ccomp.runtime.devices.base import Device, array_shape, element_layout, nbytes
from ccomp.runtime.devices.gl_launch import GLLaunches, current, held, outside
from ccomp.runtime.devices.gl_limits import OVERRUN_SLOT, max_loop_iterations, overrun_error
from ccomp.runtime.devices.gl_textures import TextureGL

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
    """A device buffer: the GL buffer plus the memref type and runtime dims it holds, and
    the buffer textures made over it so far, by format (freed with the buffer)."""

    buffer: Any
    memref: MemRefType
    dims: tuple[int, ...]
    nbytes: int
    textures: dict[str, int] = field(default_factory=dict)


class GLDevice(GLLaunches, Device):
    """Runs ``kern.kernel`` ops as GLSL compute shaders (see the module docstring)."""

    name = "glsl"
    queue_depth = 64  # the most dispatches queued before the host waits (Device.queue_depth)
    ctx: Any = None  # set first, so __del__ of a half-built device finds it
    module: ModuleOp | None = None  # the loaded kernels (names an overrun's kernel)

    def __init__(self) -> None:
        self.ctx = _context()
        with held(self.ctx):
            info = self.ctx.info
            self.max_invocations = int(info["GL_MAX_COMPUTE_WORK_GROUP_INVOCATIONS"])
            self.max_groups = tuple(int(n) for n in info["GL_MAX_COMPUTE_WORK_GROUP_COUNT"])
            self.max_block = int(info["GL_MAX_SHADER_STORAGE_BLOCK_SIZE"])
            self.max_texels = int(info["GL_MAX_TEXTURE_BUFFER_SIZE"])
            self.max_textures = int(info["GL_MAX_COMPUTE_TEXTURE_IMAGE_UNITS"])
            self.renderer = str(info["GL_RENDERER"])
            # llvmpipe cuts loops silently: shaders report an overrun here, which only a
            # device with a loop budget reads (gl_limits)
            self.max_loop_iterations = max_loop_iterations(self.renderer)
            self.overrun = self.ctx.buffer(bytes(16))
            self.overrun.bind_to_storage_buffer(OVERRUN_SLOT)
        try:
            self.tex: TextureGL | None = TextureGL()
        except (OSError, AttributeError) as e:  # no buffer textures: read-only buffers stay SSBOs
            log.debug("glsl device: no buffer textures (%s)", e)
            self.tex, self.max_textures = None, 0
        self.kernels: dict[str, tuple[KernelSource, Any]] = {}
        self.ssbo_only: dict[str, tuple[KernelSource, Any]] = {}  # see _fallback
        self.live: dict[int, GLBuffer] = {}  # released by close()
        self.uniforms: dict[Any, dict[str, Any]] = {}  # shader -> its uniform objects by name
        self.uniforms_of: dict[Any, tuple] = {}  # shader -> the values a prepared launch last set
        log.debug("glsl device: %s, OpenGL %s", info["GL_RENDERER"], info["GL_VERSION"])

    def codegen_options(self) -> dict[str, Any]:
        return {"max_invocations": self.max_invocations, "max_textures": self.max_textures,
                "max_loop_iterations": self.max_loop_iterations}

    def check_loops(self) -> None:
        """Raise the located error of a kernel whose loops the driver cut since the
        last check (gl_limits); called before any result leaves the device."""
        if self.max_loop_iterations is None:
            return
        tag = int(np.frombuffer(self.overrun.read(size=4), np.uint32)[0])
        if tag:
            self.overrun.write(bytes(4))
            raise overrun_error(tag, self.module, self.renderer, self.max_loop_iterations)

    def missing_types(self) -> dict[str, str]:
        """``int64_t`` needs ``GL_ARB_gpu_shader_int64`` (the shaders require it);
        ``double`` is core since GL 4.0, so every 4.3 context has it (with Mesa's
        ``GL_ARB_gpu_shader_fp64`` switched off, the 4.3 context itself is refused)."""
        if "GL_ARB_gpu_shader_int64" in self.ctx.extensions:
            return {}
        return {"i64": "GL_ARB_gpu_shader_int64 missing"}

    def load(self, module: ModuleOp, sources: dict[str, KernelSource]) -> None:
        self.module = module  # where an overrun's kernel is found (check_loops)
        for ks in sources.values():
            self.compile(ks)

    @current
    def compile(self, ks: KernelSource) -> None:
        """Compile one emitted shader; a driver rejection names the kernel and its log."""
        self.kernels[ks.name] = (ks, self._build(ks))

    def _build(self, ks: KernelSource) -> Any:
        units = [b.slot for b in ks.bindings if b.texture_format]
        if units and max(units) >= self.max_textures:
            raise KernelBuildError("glsl", ks.name, f"needs texture unit {max(units)}; this driver has "
                                   f"{self.max_textures} (GL_MAX_COMPUTE_TEXTURE_IMAGE_UNITS, or no glTexBuffer)")
        try:
            return self.ctx.compute_shader(ks.source)
        except moderngl.Error as e:
            raise KernelBuildError("glsl", ks.name, str(e), ks.source) from e

    # ---- buffers ------------------------------------------------------------------------
    def _nbytes(self, memref: MemRefType, dims: Sequence[int]) -> int:
        n = nbytes(memref, dims)
        if n > self.max_block:
            raise MemoryError(
                f"glsl: a {memref} buffer of dims {tuple(dims)} needs {n} bytes; this driver's "
                f"storage buffers hold at most {self.max_block} (GL_MAX_SHADER_STORAGE_BLOCK_SIZE)"
            )
        return n

    def _track(self, buffer: GLBuffer) -> GLBuffer:
        self.live[id(buffer)] = buffer
        return buffer

    @current
    def alloc(self, memref: MemRefType, dims: Sequence[int]) -> GLBuffer:
        n = self._nbytes(memref, dims)
        return self._track(GLBuffer(self.ctx.buffer(reserve=max(n, 16)), memref, tuple(int(d) for d in dims), n))

    @current
    def upload(self, memref: MemRefType, array: np.ndarray) -> GLBuffer:
        dims = tuple(array.shape[: memref.get_num_dims()])
        n = self._nbytes(memref, dims)
        data = np.ascontiguousarray(array, dtype=element_layout(memref.element_type).dtype)
        buffer = self.ctx.buffer(data if n else bytes(16))
        return self._track(GLBuffer(buffer, memref, dims, n))

    @current
    def download(self, buffer: GLBuffer) -> np.ndarray:
        layout = element_layout(buffer.memref.element_type)
        out = np.empty(array_shape(buffer.memref, buffer.dims), dtype=layout.dtype)
        self.check_loops()
        if buffer.nbytes:
            buffer.buffer.read_into(out, size=buffer.nbytes)
        return out

    @current
    def download_rows(self, buffer: GLBuffer, first: int, rows: int, out: np.ndarray) -> None:
        """Only the band's bytes, read at their offset."""
        row = out[0].nbytes if len(out) else 0
        self.check_loops()
        if rows > 0 and row:
            buffer.buffer.read_into(out[first:first + rows], size=rows * row, offset=first * row)

    def release(self, buffer: GLBuffer) -> None:
        if self.ctx is not None and self.live.pop(id(buffer), None) is not None:
            outside(functools.partial(self._release, buffer))  # the pool may free one mid-launch (gc)

    def _release(self, buffer: GLBuffer) -> None:
        if self.ctx is not None:
            with held(self.ctx):
                self._free(buffer)

    @current
    def sync(self) -> None:
        self.ctx.finish()

    def timed(self, issue: Callable[[], Any]) -> tuple[Any, Callable[[], int]]:
        """The launch inside a GL timer query (``GL_TIME_ELAPSED``), read after the call.
        The query begins and ends in blocks of their own: GL blocks do not nest, and the
        launch opens one itself. Mesa's llvmpipe runs a compute dispatch outside the
        query's span and reports about 0 ns, so the launch is also timed on the host up
        to a ``glFinish``; a query result under 1 us falls back to that."""
        start = time.perf_counter_ns()
        with held(self.ctx):
            query = self.ctx.query(time=True)
            query.__enter__()
        try:
            result = issue()
        finally:
            with held(self.ctx):
                query.__exit__(None, None, None)
                self.ctx.finish()
        host = time.perf_counter_ns() - start

        def elapsed() -> int:
            with held(self.ctx):
                value = int(query.elapsed)
            return value if value >= 1000 else host
        return result, elapsed

    def _free(self, buffer: GLBuffer) -> None:
        for texture in buffer.textures.values():
            assert self.tex is not None
            self.tex.free(texture)
        buffer.textures.clear()
        buffer.buffer.release()

    def close(self) -> None:
        """Release every shader, buffer and texture of this device, then its context.
        Buffers handed out become invalid; calling it twice is harmless."""
        if self.ctx is None:
            return
        ctx = self.ctx
        with held(ctx):
            for _, shader in [*self.kernels.values(), *self.ssbo_only.values()]:
                shader.release()
            for buffer in self.live.values():
                self._free(buffer)
        self.kernels, self.ssbo_only, self.live, self.ctx = {}, {}, {}, None
        self.uniforms, self.uniforms_of = {}, {}
        ctx.release()

    def __del__(self) -> None:
        try:  # dropped in a cycle, the garbage collector may get here in another device's launch
            outside(self.close)
        except Exception:  # noqa: BLE001 - interpreter shutdown may have torn GL down already
            pass
