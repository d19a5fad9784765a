"""How the ``glsl`` device issues a launch: bind buffers, set uniforms, dispatch.

A launch is planned (``_plan``: the storage buffers and buffer textures to bind, the
uniform values — dims, scalars, extents — the shader keeps) and then issued.
``prepare_launch`` plans once and issues at every call, so a repeat zone's ping-pong
only binds its buffers and dispatches (about 14 us a launch on llvmpipe at 8x8,
against 60 us when every launch planned). Uniforms are state of the shader program,
so a prepared launch sets them only when another launch of the same shader left
different values (``uniforms_of``); uniform objects are looked up once per shader
(moderngl finds one by scanning the program's members).

Every method touching GL runs with the device's context current (``current``, ``held``):
moderngl issues calls to whatever context is current, so with two devices alive (two
glsl Programs) one would otherwise run the other's context and read garbage.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ccomp.runtime.abi import KernelSource, combine_partials
from ccomp.runtime.devices.base import Device

try:  # never fatal at import: gl.probe() reports a missing driver
    import moderngl
except ImportError:  # pragma: no cover - moderngl is a dependency
    moderngl = None

log = logging.getLogger(__name__)


class _Blocks(threading.local):
    depth = 0  # GL blocks (``held``) open on this thread


_blocks = _Blocks()
_later: list[Callable[[], None]] = []  # GL work that came while a block was open (``outside``)


class held:
    """``with held(ctx):`` makes ``ctx`` current for the block. glcontext does not nest:
    leaving an inner ``with ctx`` — of any context, the same one included — leaves no
    context current, so the outer block's remaining calls silently go nowhere (a launch
    computes nothing). Blocks are therefore counted per thread, and GL work that can
    start inside one without being asked for there — a device or buffer freed by the
    garbage collector — waits (``outside``) until the outermost block ends."""

    __slots__ = ("ctx",)

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def __enter__(self) -> None:
        _blocks.depth += 1
        try:
            self.ctx.__enter__()
        except BaseException:
            _blocks.depth -= 1
            raise

    def __exit__(self, *exc: Any) -> None:
        try:
            self.ctx.__exit__(*exc)
        finally:
            _blocks.depth -= 1
            if _later and not _blocks.depth:
                _run_later()


def outside(work: Callable[[], None]) -> None:
    """Run ``work`` (which opens its own block) now, or after the outermost open block."""
    if _blocks.depth:
        _later.append(work)
    else:
        work()


def _run_later() -> None:
    while _later:
        work = _later.pop()
        try:
            work()
        except Exception as e:  # noqa: BLE001 - freeing must not fail the launch that ended
            log.debug("glsl: deferred release failed: %s", e)


def current(method: Any) -> Any:
    """``method`` run with the device's GL context current (see ``held``)."""

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.ctx is None:
            raise RuntimeError("glsl: the device is closed")
        with held(self.ctx):
            return method(self, *args, **kwargs)

    return run


class GLLaunches:
    """The launch methods of ``GLDevice`` (which holds the context, kernels, texture
    entry points and limits these use)."""

    ctx: Any
    tex: Any
    kernels: dict[str, tuple[KernelSource, Any]]
    ssbo_only: dict[str, tuple[KernelSource, Any]]
    max_groups: tuple[int, ...]
    max_texels: int
    uniforms: dict[Any, dict[str, Any]]  # shader -> its uniform objects by name
    uniforms_of: dict[Any, tuple]  # shader -> the values a prepared launch last set
    _build: Callable[[KernelSource], Any]  # compiles a shader (the all-SSBO variant, on first need)

    def _uniform(self, shader: Any, name: str) -> Any:
        """The uniform ``name`` of ``shader``, or None when the GLSL compiler dropped it
        (unused)."""
        found = self.uniforms.get(shader)
        if found is None:
            found = self.uniforms[shader] = {n: shader[n] for n in shader
                                             if isinstance(shader[n], moderngl.Uniform)}
        return found.get(name)

    def _plan(self, ks: KernelSource, shader: Any, grid: Sequence[int], args: Sequence[Any]) -> _Plan:
        """What issuing a launch takes: storage buffers and buffer textures to bind, and
        the uniform values (dims, scalars, extents) the shader keeps."""
        plan = _Plan()
        for b, arg in zip(ks.bindings, args, strict=True):
            if b.kind == "buffer":
                if b.texture_format:
                    assert self.tex is not None
                    if b.texture_format not in arg.textures:
                        arg.textures[b.texture_format] = self.tex.view(b.slot, arg.buffer.glo, b.texture_format)
                    plan.textures.append((b.slot, arg.textures[b.texture_format]))
                else:
                    plan.ssbos.append((arg.buffer, b.slot))
                plan.uniforms.extend((name, int(d)) for name, d in zip(b.dims, arg.dims))
            elif b.dtype == "int64":  # declared ivec2 (low, high) by the emitter
                value = tuple(np.asarray(arg, dtype=np.int64).reshape(1).view(np.int32).tolist())
                plan.uniforms.append((b.name, value))
            elif b.lanes > 1:
                plan.uniforms.append((b.name, tuple(np.asarray(arg, dtype=b.dtype).tolist())))
            else:
                plan.uniforms.append((b.name, np.asarray(arg, dtype=b.dtype).item()))
        plan.uniforms.extend((name, int(g)) for name, g in zip(ks.extents, grid))
        plan.uniforms = [(u, v) for name, v in plan.uniforms if (u := self._uniform(shader, name)) is not None]
        return plan

    def _bind(self, plan: _Plan) -> None:
        for buffer, slot in plan.ssbos:
            buffer.bind_to_storage_buffer(slot)
        for unit, texture in plan.textures:
            self.tex.use(unit, texture)

    @current
    def prepare_launch(self, kernel: str, grid: Sequence[int], args: Sequence[Any]) -> Callable[[], Any]:
        """Bind and dispatch with everything looked up and converted beforehand."""
        ks, shader = self._fallback(kernel, self.kernels[kernel][0], args)
        groups = ks.groups(grid)
        if ks.partials is not None or any(g > m for g, m in zip(groups, self.max_groups)):
            # a reduction, or a grid dispatched in chunks: launched as it comes
            return Device.prepare_launch(self, kernel, grid, args)  # type: ignore[arg-type]
        if not all(groups):
            return _nothing
        plan = self._plan(ks, shader, grid, args)
        plan.uniforms += [(u, 0) for name in ks.bases[: len(groups)] if (u := self._uniform(shader, name)) is not None]
        key = tuple(v for _, v in plan.uniforms)
        size = (*groups, *([1] * (3 - len(groups))))
        block, owners, bind, ctx = held(self.ctx), self.uniforms_of, self._bind, self.ctx

        def launch() -> None:
            with block:
                bind(plan)
                if owners.get(shader) != key:
                    for uniform, value in plan.uniforms:
                        uniform.value = value
                    owners[shader] = key
                shader.run(*size)
                ctx.memory_barrier()
        return launch

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

    @current
    def launch(self, kernel: str, grid: Sequence[int], args: Sequence[Any]) -> Any:
        ks, shader = self._fallback(kernel, self.kernels[kernel][0], args)
        plan = self._plan(ks, shader, grid, args)
        self._bind(plan)
        for uniform, value in plan.uniforms:
            uniform.value = value
        self.uniforms_of.pop(shader, None)  # a prepared launch must set its own again
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
        self.check_loops()  # type: ignore[attr-defined]  # GLDevice: a cut loop is an error (gl_limits)
        return combine_partials(ks, values)

    def _dispatch(self, ks: KernelSource, shader: Any, groups: tuple[int, ...]) -> None:
        """Dispatch ``groups`` workgroups in chunks the driver accepts, with a barrier after
        each (all barrier bits: texel fetches must see earlier SSBO writes too)."""
        chunks = [range(0, g, self.max_groups[d]) for d, g in enumerate(groups)]
        for start in itertools.product(*chunks):
            for d, s in enumerate(start):
                if (base := self._uniform(shader, ks.bases[d])) is not None:
                    base.value = s * ks.local_size[d]
            size = [min(self.max_groups[d], groups[d] - s) for d, s in enumerate(start)]
            shader.run(*size, *([1] * (3 - len(size))))
            self.ctx.memory_barrier()


@dataclass
class _Plan:
    """One launch's bindings: (GL buffer, SSBO binding point), (texture unit, buffer
    texture) and (uniform object, value)."""

    ssbos: list[tuple[Any, int]] = field(default_factory=list)
    textures: list[tuple[int, int]] = field(default_factory=list)
    uniforms: list[tuple[Any, Any]] = field(default_factory=list)


def _nothing() -> None:
    """A prepared launch over an empty grid."""
