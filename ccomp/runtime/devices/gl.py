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

Every method touching GL runs with the device's context current (``_current``):
moderngl issues calls to whatever context is current, so with two devices alive (two
glsl Programs) one would otherwise run the other's context and read garbage.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from xdsl.dialects.builtin import MemRefType, ModuleOp

from ccomp.runtime.abi import DeviceUnavailableError, KernelBuildError, KernelSource, combine_partials
from ccomp.runtime.devices.base import Device, array_shape, element_layout, nbytes
from ccomp.runtime.devices.gl_textures import TextureGL

try:  # never fatal at import: probe() must report a missing driver
    import moderngl

    _IMPORT_ERROR = ""
except ImportError as e:  # pragma: no cover - moderngl is a dependency
    moderngl, _IMPORT_ERROR = None, str(e)

log = logging.getLogger(__name__)

def _current(method: Any) -> Any:
    """``method`` run with the device's GL context current (see the module docstring)."""

    @functools.wraps(method)
    def run(self: GLDevice, *args: Any, **kwargs: Any) -> Any:
        if self.ctx is None:
            raise RuntimeError("glsl: the device is closed")
        with self.ctx:
            return method(self, *args, **kwargs)

    return run


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


class GLDevice(Device):
    """Runs ``kern.kernel`` ops as GLSL compute shaders (see the module docstring)."""

    name = "glsl"
    queue_depth = 64  # the most dispatches queued before the host waits (Device.queue_depth)
    ctx: Any = None  # set first, so __del__ of a half-built device finds it

    def __init__(self) -> None:
        self.ctx = _context()
        with self.ctx:
            info = self.ctx.info
            self.max_invocations = int(info["GL_MAX_COMPUTE_WORK_GROUP_INVOCATIONS"])
            self.max_groups = tuple(int(n) for n in info["GL_MAX_COMPUTE_WORK_GROUP_COUNT"])
            self.max_block = int(info["GL_MAX_SHADER_STORAGE_BLOCK_SIZE"])
            self.max_texels = int(info["GL_MAX_TEXTURE_BUFFER_SIZE"])
            self.max_textures = int(info["GL_MAX_COMPUTE_TEXTURE_IMAGE_UNITS"])
        try:
            self.tex: TextureGL | None = TextureGL()
        except (OSError, AttributeError) as e:  # no buffer textures: read-only buffers stay SSBOs
            log.debug("glsl device: no buffer textures (%s)", e)
            self.tex, self.max_textures = None, 0
        self.kernels: dict[str, tuple[KernelSource, Any]] = {}
        self.ssbo_only: dict[str, tuple[KernelSource, Any]] = {}  # see _fallback
        self.live: dict[int, GLBuffer] = {}  # released by close()
        log.debug("glsl device: %s, OpenGL %s", info["GL_RENDERER"], info["GL_VERSION"])

    def codegen_options(self) -> dict[str, Any]:
        return {"max_invocations": self.max_invocations, "max_textures": self.max_textures}

    def missing_types(self) -> dict[str, str]:
        """``int64_t`` needs ``GL_ARB_gpu_shader_int64`` (the shaders require it);
        ``double`` is core since GL 4.0, so every 4.3 context has it (with Mesa's
        ``GL_ARB_gpu_shader_fp64`` switched off, the 4.3 context itself is refused)."""
        if "GL_ARB_gpu_shader_int64" in self.ctx.extensions:
            return {}
        return {"i64": "GL_ARB_gpu_shader_int64 missing"}

    def load(self, module: ModuleOp, sources: dict[str, KernelSource]) -> None:
        for ks in sources.values():
            self.compile(ks)

    @_current
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

    @_current
    def alloc(self, memref: MemRefType, dims: Sequence[int]) -> GLBuffer:
        n = self._nbytes(memref, dims)
        return self._track(GLBuffer(self.ctx.buffer(reserve=max(n, 16)), memref, tuple(int(d) for d in dims), n))

    @_current
    def upload(self, memref: MemRefType, array: np.ndarray) -> GLBuffer:
        dims = tuple(array.shape[: memref.get_num_dims()])
        n = self._nbytes(memref, dims)
        data = np.ascontiguousarray(array, dtype=element_layout(memref.element_type).dtype)
        buffer = self.ctx.buffer(data if n else bytes(16))
        return self._track(GLBuffer(buffer, memref, dims, n))

    @_current
    def download(self, buffer: GLBuffer) -> np.ndarray:
        layout = element_layout(buffer.memref.element_type)
        out = np.empty(array_shape(buffer.memref, buffer.dims), dtype=layout.dtype)
        if buffer.nbytes:
            buffer.buffer.read_into(out, size=buffer.nbytes)
        return out

    def release(self, buffer: GLBuffer) -> None:
        if self.ctx is not None and self.live.pop(id(buffer), None) is not None:
            with self.ctx:
                self._free(buffer)

    @_current
    def sync(self) -> None:
        self.ctx.finish()

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
        with ctx:
            for _, shader in [*self.kernels.values(), *self.ssbo_only.values()]:
                shader.release()
            for buffer in self.live.values():
                self._free(buffer)
        self.kernels, self.ssbo_only, self.live, self.ctx = {}, {}, {}, None
        ctx.release()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown may have torn GL down already
            pass

    # ---- launches -----------------------------------------------------------------------
    @staticmethod
    def _set(shader: Any, name: str, value: Any) -> None:
        if name in shader:  # the GLSL compiler drops unused uniforms
            shader[name].value = value

    def _fallback(self, kernel: str, ks: KernelSource, args: Sequence[Any]) -> tuple[KernelSource, Any]:
        """``ks``, or its all-SSBO variant when a texture-bound buffer has more elements
        than ``GL_MAX_TEXTURE_BUFFER_SIZE`` (often far below the SSBO limit elsewhere)."""
        big = [b.name for b, a in zip(ks.bindings, args) if b.texture_format
               and int(np.prod(a.dims, dtype=np.int64)) > self.max_texels]
        if not big:
            return self.kernels[kernel]
        if kernel not in self.ssbo_only:
            if ks.ssbo_only is None:
                raise MemoryError(f"glsl: kernel @{kernel} reads {', '.join(big)} as buffer textures, larger than "
                                  f"this driver's {self.max_texels} texels (GL_MAX_TEXTURE_BUFFER_SIZE)")
            self.ssbo_only[kernel] = (ks.ssbo_only, self._build(ks.ssbo_only))
        return self.ssbo_only[kernel]

    @_current
    def launch(self, kernel: str, grid: Sequence[int], args: Sequence[Any]) -> Any:
        ks, shader = self._fallback(kernel, self.kernels[kernel][0], args)
        for b, arg in zip(ks.bindings, args, strict=True):
            if b.kind == "buffer":
                if b.texture_format:
                    assert self.tex is not None
                    if b.texture_format in arg.textures:
                        self.tex.use(b.slot, arg.textures[b.texture_format])
                    else:
                        arg.textures[b.texture_format] = self.tex.view(b.slot, arg.buffer.glo, b.texture_format)
                else:
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
        """Dispatch ``groups`` workgroups in chunks the driver accepts, with a barrier after
        each (all barrier bits: texel fetches must see earlier SSBO writes too)."""
        chunks = [range(0, g, self.max_groups[d]) for d, g in enumerate(groups)]
        for start in itertools.product(*chunks):
            for d, s in enumerate(start):
                self._set(shader, ks.bases[d], s * ks.local_size[d])
            size = [min(self.max_groups[d], groups[d] - s) for d, s in enumerate(start)]
            shader.run(*size, *([1] * (3 - len(size))))
            self.ctx.memory_barrier()
