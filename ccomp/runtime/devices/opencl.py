"""The ``opencl`` device: OpenCL C kernels through pyopencl.

It takes the first GPU of any platform, else the first device of any kind (PoCL's
CPU device from ``pocl-binary-distribution`` on a machine without a GPU). It builds
OpenCL C the backend generated (``KernelSource``), in memory or read back from a build
folder. All kernels of a module build as one program in ``load``, so PoCL compiles once; PoCL caches
builds under ``POCL_CACHE_DIR``, which is pointed at the user cache dir when unset (a
cold build costs ~0.4 s, a cached one almost nothing). Launches use the workgroup size
compiled into each kernel (``reqd_work_group_size``), rounding the global size up;
the kernel guards the overhang. The in-order queue orders launches; downloads block.

Arguments are set with ``Kernel.set_args`` after ``set_scalar_arg_dtypes``: pyopencl
packs typed scalars with ``struct`` (under 1 us for a heat launch's eight arguments),
where ``set_arg`` of a NumPy scalar costs about 10 us each. ``prepare_launch`` sets a
launch's arguments once on a kernel object of its own (kept for reuse when the prepared
launch is dropped), so a repeat zone's ping-pong only enqueues.

Limits the driver would meet with a crash are checked first: buffers over the
device's ``GLOBAL_MEM_SIZE`` or ``MAX_MEM_ALLOC_SIZE`` (``memory_bytes``,
``max_alloc_bytes``: the buffer pool refuses them with a located error), and entry
points longer than ``MAX_ENTRY_CHARS`` (the backend shortens its own; a longer one,
from an edited build folder, aborted PoCL's linker).
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.dialects.builtin import MemRefType, ModuleOp

from ccomp.runtime.abi import (Binding, DeviceUnavailableError, KernelBuildError, KernelSource, combine_partials,
                               workgroup_macro)
from ccomp.runtime.devices.base import Device, array_shape, element_layout

try:  # imported here, not at use, but never fatal: probe() must report a missing driver
    import pyopencl as cl

    _IMPORT_ERROR = ""
except ImportError as e:  # pragma: no cover - pyopencl is a dependency
    cl, _IMPORT_ERROR = None, str(e)

log = logging.getLogger(__name__)


def _set_cache_dir() -> None:
    """Keep PoCL's kernel cache across processes (it must be set before PoCL loads)."""
    if "POCL_CACHE_DIR" not in os.environ:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        path = base / "ccomp" / "pocl"
        try:
            path.mkdir(parents=True, exist_ok=True)
            os.environ["POCL_CACHE_DIR"] = str(path)
        except OSError as e:  # a read-only home: PoCL falls back to its own default
            log.debug("no PoCL cache dir at %s: %s", path, e)


def _pick_device() -> Any:
    """The first GPU of any platform, else the first device; or a clear error."""
    _set_cache_dir()
    if cl is None:  # pragma: no cover - pyopencl is a dependency
        raise DeviceUnavailableError(f"opencl: pyopencl cannot be imported ({_IMPORT_ERROR})")
    try:
        platforms = cl.get_platforms()
    except cl.Error as e:
        raise DeviceUnavailableError(
            f"opencl: no OpenCL platform found (install a driver or pocl-binary-distribution): {e}"
        ) from e
    devices = [d for p in platforms for d in p.get_devices()]
    if not devices:
        raise DeviceUnavailableError("opencl: the OpenCL platforms found have no devices")
    gpus = [d for d in devices if d.type & cl.device_type.GPU]
    return (gpus or devices)[0]


def probe() -> tuple[bool, str]:
    """Whether the opencl target can run here, and the platform/device or the reason."""
    try:
        d = _pick_device()
    except DeviceUnavailableError as e:
        return False, str(e)
    return True, f"{d.platform.name.strip()}: {d.name.strip()} ({d.version.strip()})"


@dataclass
class CLBuffer:
    """A device buffer: the ``cl.Buffer`` plus the memref type and runtime dims it holds."""

    buffer: Any
    memref: MemRefType
    dims: tuple[int, ...]
    nbytes: int


MAX_ENTRY_CHARS = 128  # the backend emits at most 64 (cstyle.opencl.MAX_ENTRY)


class CLDevice(Device):
    """Runs ``kern.kernel`` ops as OpenCL C kernels (see the module docstring)."""

    name = "opencl"
    queue_depth = 64  # the most launches queued before the host waits (Device.queue_depth)

    def __init__(self, device: Any = None) -> None:
        self.device = device if device is not None else _pick_device()
        self.ctx = cl.Context([self.device])
        self.queue = cl.CommandQueue(self.ctx)
        self.last_event: Any = None  # the last kernel enqueued (its profiling times, when profiling)
        self.kernels: dict[str, tuple[KernelSource, Any]] = {}
        self.programs: dict[str, Any] = {}  # kernel name -> its cl.Program, for more kernel objects
        self.spare: dict[str, list[Any]] = {}  # kernel objects of dropped prepared launches
        # what the driver promises, for the buffer pool's limits: all buffers, the largest one
        self.memory_bytes = int(self.device.global_mem_size)
        # volumes run in 8x8x8 workgroups on a GPU (see _workgroup)
        self.cube_workgroups = bool(self.device.type & cl.device_type.GPU)
        self.max_alloc_bytes = min(int(self.device.max_mem_alloc_size), self.memory_bytes)
        log.debug("opencl device: %s on %s", self.device.name, self.device.platform.name)

    def codegen_options(self) -> dict[str, Any]:
        return {"max_work_group_size": self.device.max_work_group_size}

    def missing_types(self) -> dict[str, str]:
        """``double`` is optional in OpenCL C (``cl_khr_fp64``); ``long`` is not."""
        if "cl_khr_fp64" in self.device.extensions.split():
            return {}
        return {"f64": "cl_khr_fp64 missing"}

    def load(self, module: ModuleOp, sources: dict[str, KernelSource]) -> None:
        if sources:
            self.build(list(sources.values()))

    def build(self, sources: Sequence[KernelSource]) -> None:
        """Build kernels as one program; a driver rejection names the kernel and its log.

        If the joint build fails, each kernel is built alone to find the one to blame."""
        text = "\n".join(ks.source for ks in sources)
        for ks in sources:
            if len(ks.entry) > MAX_ENTRY_CHARS or not (ks.entry.isascii() and ks.entry.isidentifier()):
                raise KernelBuildError("opencl", ks.name, f"entry point {ks.entry[:40]!r} ({len(ks.entry)} characters) "
                                       f"is not a C identifier of at most {MAX_ENTRY_CHARS} characters", text)
        sources = [self._workgroup(ks) for ks in sources]
        options = [f"-D{workgroup_macro(ks.entry)}={','.join(map(str, ks.local_size))}"
                   for ks in sources if workgroup_macro(ks.entry) in ks.source]
        program = cl.Program(self.ctx, text)
        try:
            program.build(options=options)
        except cl.Error as e:
            if len(sources) > 1:
                for ks in sources:
                    self.build([ks])
            build_log = program.get_build_info(self.device, cl.program_build_info.LOG) or str(e)
            raise KernelBuildError("opencl", ", @".join(ks.name for ks in sources), build_log, text) from e
        for ks in sources:
            self.programs[ks.name] = program
            self.kernels[ks.name] = (ks, self._kernel(program, ks))

    def _workgroup(self, ks: KernelSource) -> KernelSource:
        """``ks`` with the workgroup this device launches it in: a volume kernel whose
        size is a macro (``workgroup_macro``) runs in 8x8x8 cubes on a GPU, halved
        (z first) to the device's limits; elsewhere, and on a CPU (PoCL ran 32x4x2 rows
        faster, the backend's choice), the backend's ``local_size`` stays."""
        if not self.cube_workgroups or workgroup_macro(ks.entry) not in ks.source:
            return ks
        size, limits = [8, 8, 8], list(self.device.max_work_item_sizes)[:3]
        while np.prod(size) > self.device.max_work_group_size or any(s > m for s, m in zip(size, limits)):
            size[next(d for d in (2, 1, 0) if size[d] == max(size))] //= 2
        return replace(ks, local_size=tuple(size))

    @staticmethod
    def _kernel(program: Any, ks: KernelSource) -> Any:
        """A kernel object whose scalar arguments ``set_args`` packs by their C types."""
        k = cl.Kernel(program, ks.entry)
        types: list[Any] = [None] * k.num_args  # None: a cl.Buffer
        for b in ks.bindings:
            if b.kind == "buffer":
                for slot in b.dim_slots:
                    types[slot] = np.int32
            elif b.lanes == 1:
                types[b.slot] = np.dtype(b.dtype)
            else:  # raw bytes of the padded vector (float3 occupies 16 bytes)
                types[b.slot] = np.dtype((np.void, (4 if b.lanes == 3 else b.lanes) * np.dtype(b.dtype).itemsize))
        for slot in ks.extent_slots:
            types[slot] = np.int32
        k.set_scalar_arg_dtypes(types)
        return k

    # ---- buffers ------------------------------------------------------------------------
    def alloc(self, memref: MemRefType, dims: Sequence[int]) -> CLBuffer:
        layout = element_layout(memref.element_type)
        n = int(np.prod(dims, dtype=np.int64)) * layout.lanes * layout.dtype.itemsize
        buffer = cl.Buffer(self.ctx, cl.mem_flags.READ_WRITE, size=max(n, 16))
        return CLBuffer(buffer, memref, tuple(int(d) for d in dims), n)

    def upload(self, memref: MemRefType, array: np.ndarray) -> CLBuffer:
        data = np.ascontiguousarray(array, dtype=element_layout(memref.element_type).dtype)
        dims = tuple(array.shape[: memref.get_num_dims()])
        if data.nbytes == 0:
            return self.alloc(memref, dims)
        flags = cl.mem_flags.READ_WRITE | cl.mem_flags.COPY_HOST_PTR
        return CLBuffer(cl.Buffer(self.ctx, flags, hostbuf=data), memref, dims, data.nbytes)

    def download(self, buffer: CLBuffer) -> np.ndarray:
        layout = element_layout(buffer.memref.element_type)
        out = np.empty(array_shape(buffer.memref, buffer.dims), dtype=layout.dtype)
        if buffer.nbytes:
            cl.enqueue_copy(self.queue, out, buffer.buffer)
        return out

    def download_rows(self, buffer: CLBuffer, first: int, rows: int, out: np.ndarray) -> None:
        """Only the band's bytes, read at their offset."""
        row = out[0].nbytes if len(out) else 0
        if rows > 0 and row:
            cl.enqueue_copy(self.queue, out[first:first + rows], buffer.buffer, src_offset=first * row)

    def release(self, buffer: CLBuffer) -> None:
        buffer.buffer.release()

    def sync(self) -> None:
        self.queue.finish()

    def start_profiling(self) -> None:
        """Switch to an in-order queue with profiling enabled (kept from then on)."""
        if not self.queue.properties & cl.command_queue_properties.PROFILING_ENABLE:
            self.queue.finish()
            self.queue = cl.CommandQueue(self.ctx, properties=cl.command_queue_properties.PROFILING_ENABLE)

    def timed(self, issue: Callable[[], Any]) -> tuple[Any, Callable[[], int]]:
        """The launch's OpenCL profiling event: its start to end on the device."""
        self.last_event = None
        result = issue()
        event = self.last_event
        if event is None:  # an empty grid: nothing ran
            return result, lambda: 0
        return result, lambda: int(event.profile.end - event.profile.start)

    # ---- launches -----------------------------------------------------------------------
    @staticmethod
    def _scalar(b: Binding, value: Any) -> Any:
        """A kernel argument of the declared C type (``float3`` occupies 16 bytes)."""
        dtype = np.dtype(b.dtype)
        if b.lanes == 1:
            return dtype.type(value)
        out = np.zeros(4 if b.lanes == 3 else b.lanes, dtype)
        out[: b.lanes] = value
        return out

    def _arguments(self, ks: KernelSource, k: Any, grid: Sequence[int], args: Sequence[Any],
                   partials: Any = None) -> list[Any]:
        """Every argument of kernel object ``k`` in order, as its ``set_args`` takes them."""
        values: list[Any] = [None] * k.num_args
        for b, arg in zip(ks.bindings, args, strict=True):
            if b.kind == "buffer":
                values[b.slot] = arg.buffer
                for slot, d in zip(b.dim_slots, arg.dims):
                    values[slot] = d
            else:
                values[b.slot] = self._scalar(b, arg)
        for slot, g in zip(ks.extent_slots, grid):
            values[slot] = int(g)
        if ks.partials is not None:
            values[ks.partials.slot] = partials
        return values

    def prepare_launch(self, kernel: str, grid: Sequence[int], args: Sequence[Any]) -> Callable[[], Any]:
        """An enqueue of a kernel object of its own with the arguments already set."""
        ks, _ = self.kernels[kernel]
        groups = ks.groups(grid)
        if ks.partials is not None:
            return super().prepare_launch(kernel, grid, args)
        if not all(groups):
            return _nothing
        spare = self.spare.setdefault(kernel, [])
        k = spare.pop() if spare else self._kernel(self.programs[kernel], ks)
        k.set_args(*self._arguments(ks, k, grid, args))
        global_size = tuple(g * s for g, s in zip(groups, ks.local_size))
        enqueue, queue, local_size = cl.enqueue_nd_range_kernel, self.queue, ks.local_size

        def launch() -> None:
            self.last_event = enqueue(queue, k, global_size, local_size)
        weakref.finalize(launch, spare.append, k)  # OpenCL captures arguments at enqueue: reusable
        return launch

    def launch(self, kernel: str, grid: Sequence[int], args: Sequence[Any]) -> Any:
        ks, k = self.kernels[kernel]
        groups = ks.groups(grid)
        count = int(np.prod(groups)) * (ks.partials.lanes if ks.partials else 0)
        pbuf = None
        if ks.partials is not None:
            partials = np.empty(count, dtype=ks.partials.dtype)
            pbuf = cl.Buffer(self.ctx, cl.mem_flags.WRITE_ONLY, size=max(partials.nbytes, 16))
        k.set_args(*self._arguments(ks, k, grid, args, pbuf))
        if all(groups):
            global_size = tuple(g * s for g, s in zip(groups, ks.local_size))
            self.last_event = cl.enqueue_nd_range_kernel(self.queue, k, global_size, ks.local_size)
        if ks.partials is None:
            return None
        if count:
            cl.enqueue_copy(self.queue, partials, pbuf)
        pbuf.release()
        return combine_partials(ks, partials)


def _nothing() -> None:
    """A prepared launch over an empty grid."""
