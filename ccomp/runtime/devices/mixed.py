"""Running a schedule whose kernels the ``partition-devices`` pass placed on several
targets (``-t auto`` with a mixed placement): one :class:`Device` over the devices used.

Each ``kern.launch`` carries its target (``device = "opencl"``); a kernel split across
devices is launched once per part (``part = [offset arg, extent arg]`` names the
scalar arguments giving the part's first row and the full height). The host schedule
is the ordinary Python :class:`~ccomp.runtime.host.HostRunner`; this device makes a
buffer a :class:`MixedBuffer` — a host array plus a handle on each device that used it
and the set of places holding its current contents — and migrates contents before a
launch that needs them elsewhere: a read of a buffer last written on another device
copies it there through host memory (download, upload), as the pass's
``migrate`` lists predicted. A write makes the writer's copy the only valid one. The
llvm device works on host arrays, so the host array *is* its copy.

A split part writes only its rows: a part that ran off the host copies those rows
back to the host array right away, so after all parts the host array is whole and
is the one valid copy (parts cover the index space exactly once: the pass checks that
each point writes only its own element).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from xdsl.dialects import func, memref
from xdsl.dialects.builtin import ArrayAttr, IntegerAttr, MemRefType, ModuleOp, StringAttr

from ccomp.dialects import kern
from ccomp.runtime.devices.base import Device, array_shape, element_layout

log = logging.getLogger(__name__)

HOST = "llvm"  # host memory: the llvm device's buffers are host arrays
MIXED = "auto"  # the target name of a mixed build


@dataclass(eq=False)
class MixedBuffer:
    """A buffer that may live on several devices; ``valid`` names where its contents are."""

    memref: MemRefType
    dims: tuple[int, ...]
    host: np.ndarray | None = None
    handles: dict[str, Any] = field(default_factory=dict)
    valid: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Kernel:
    target: str
    reads: frozenset[int]  # binding indices loaded from
    writes: frozenset[int]  # binding indices stored to
    part: tuple[int, int] | None  # (offset arg, full extent arg) of a split part


def placements(module: ModuleOp) -> dict[str, _Kernel]:
    """Each launched kernel's target and buffer use, from the placed schedule."""
    bodies = {op.kernel_name: op for op in module.walk() if isinstance(op, kern.KernelOp)}
    out: dict[str, _Kernel] = {}
    for op in module.walk():
        if not isinstance(op, kern.LaunchOp):
            continue
        target = op.attributes.get("device")
        part = op.attributes.get("part")
        body = bodies[op.kernel_name]
        args = list(body.body.block.args)
        reads = {args.index(o.memref) for o in body.walk() if isinstance(o, memref.LoadOp) and o.memref in args}
        writes = {args.index(o.memref) for o in body.walk() if isinstance(o, memref.StoreOp) and o.memref in args}
        writes |= {args.index(o.buffer) for o in body.walk() if isinstance(o, kern.AtomicAddOp) and o.buffer in args}
        out[op.kernel_name] = _Kernel(
            target.data if isinstance(target, StringAttr) else HOST, frozenset(reads), frozenset(writes),
            tuple(a.value.data for a in part.data) if isinstance(part, ArrayAttr) else None)  # type: ignore[arg-type]
    return out


def only_kernels_of(module: ModuleOp, target: str) -> ModuleOp:
    """A copy of ``module`` with just the kernels placed on ``target`` and no host
    schedule: what that target's code is generated from and its device loads."""
    placed = {op.kernel_name for op in module.walk() if isinstance(op, kern.LaunchOp)
              and getattr(op.attributes.get("device"), "data", None) == target}
    copy = module.clone()
    for op in list(copy.body.block.ops):
        if isinstance(op, func.FuncOp) or (isinstance(op, kern.KernelOp) and op.kernel_name not in placed):
            op.detach()
            op.erase()
    return copy


class MixedDevice(Device):
    """The devices of a mixed placement behind one :class:`Device` (module docstring)."""

    name = MIXED
    upload_copies = True
    download_is_view = False
    records_transfers = True

    def __init__(self) -> None:
        self.devices: dict[str, Device] = {}
        self.kernels: dict[str, _Kernel] = {}
        self.profiler: Any = None  # set while a profiled call runs: migrations are recorded
        self._timed: Callable[[], int] | None = None
        self._timing = False

    def load(self, module: ModuleOp, code: dict[str, Any]) -> None:
        from ccomp.runtime.devices.targets import create_device

        self.kernels = placements(module)
        for target in sorted({k.target for k in self.kernels.values()}):
            device = create_device(target)
            if target in code:
                device.load(only_kernels_of(module, target), code[target])
            self.devices[target] = device
        self.queue_depth = min((d.queue_depth for d in self.devices.values() if d.queue_depth), default=None)
        log.info("auto: kernels on %s", ", ".join(f"@{n} {k.target}" for n, k in sorted(self.kernels.items())))

    def placed(self, kernel: str) -> str:
        return self.kernels[kernel].target

    # -- buffers -------------------------------------------------------------------

    def alloc(self, memref_type: MemRefType, dims: Sequence[int]) -> MixedBuffer:
        return MixedBuffer(memref_type, tuple(int(d) for d in dims))

    def upload(self, memref_type: MemRefType, array: np.ndarray) -> MixedBuffer:
        dtype = element_layout(memref_type.element_type).dtype
        dims = tuple(array.shape[: memref_type.get_num_dims()])
        return MixedBuffer(memref_type, dims, np.array(array, dtype=dtype, order="C"), valid={HOST})

    def download(self, buffer: MixedBuffer) -> np.ndarray:
        return self._host(buffer)

    def release(self, buffer: MixedBuffer) -> None:
        for target, handle in buffer.handles.items():
            self.devices[target].release(handle)
        buffer.handles.clear()

    def sync(self) -> None:
        for device in self.devices.values():
            device.sync()

    def _host_array(self, buffer: MixedBuffer) -> np.ndarray:
        if buffer.host is None:
            layout = element_layout(buffer.memref.element_type)
            buffer.host = np.empty(array_shape(buffer.memref, buffer.dims), layout.dtype)
        return buffer.host

    def _host(self, buffer: MixedBuffer) -> np.ndarray:
        """The buffer's contents in host memory, downloaded when they are elsewhere."""
        if HOST not in buffer.valid and buffer.valid:
            source = next(iter(sorted(buffer.valid)))
            self._move(buffer, source, HOST, lambda: self._host_array(buffer).__setitem__(
                Ellipsis, self.devices[source].download(buffer.handles[source])))
        return self._host_array(buffer)

    def _on(self, buffer: MixedBuffer, target: str, contents: bool) -> Any:
        """The buffer's handle on ``target``, with its contents there when ``contents``."""
        if target == HOST:
            if contents:
                self._host(buffer)
            return self._host_array(buffer)
        device = self.devices[target]
        if contents and target not in buffer.valid and buffer.valid:
            data = self._host(buffer)
            old = buffer.handles.pop(target, None)
            if old is not None:
                device.release(old)
            self._move(buffer, HOST, target, lambda: buffer.handles.__setitem__(
                target, device.upload(buffer.memref, data)))
        elif target not in buffer.handles:
            buffer.handles[target] = device.alloc(buffer.memref, buffer.dims)
        return buffer.handles[target]

    def _move(self, buffer: MixedBuffer, source: str, dest: str, copy: Callable[[], None],
              nbytes: int | None = None) -> None:
        start = time.perf_counter_ns()
        copy()
        buffer.valid.add(dest)
        if self.profiler is not None:
            nbytes = self._host_array(buffer).nbytes if nbytes is None else nbytes
            where = dest if source == HOST else source
            self.profiler.transfer(where, f"migrate {source}->{dest}", nbytes, start, time.perf_counter_ns() - start)

    # -- launches ------------------------------------------------------------------

    def launch(self, kernel: str, grid: Sequence[int], args: Sequence[Any]) -> Any:
        info = self.kernels[kernel]
        target, device = info.target, self.devices[info.target]
        values = []
        for i, arg in enumerate(args):
            if isinstance(arg, MixedBuffer):
                values.append(self._on(arg, target, contents=i in info.reads))
            else:
                values.append(arg)
        if self._timing:
            result, self._timed = device.timed(lambda: device.launch(kernel, grid, values))
        else:
            result = device.launch(kernel, grid, values)
        for i in info.writes:
            buffer = args[i]
            if info.part is not None and target != HOST:
                self._merge_rows(buffer, target, int(args[info.part[0]]), int(grid[-1]))
            else:
                buffer.valid = {target}
        return result

    def _merge_rows(self, buffer: MixedBuffer, target: str, first: int, rows: int) -> None:
        """After a split part on ``target``: its rows back into the host array."""
        host = self._host_array(buffer)
        self._move(buffer, target, HOST, lambda: self.devices[target].download_rows(
            buffer.handles[target], first, rows, host), host[first:first + rows].nbytes)
        buffer.valid = {HOST}

    def timed(self, issue: Callable[[], Any]) -> tuple[Any, Callable[[], int]]:
        """The placed device's own timer around the kernel (migrations are transfers)."""
        self._timing, self._timed = True, None
        try:
            result = issue()
        finally:
            self._timing = False
        return result, self._timed or (lambda: 0)

    def start_profiling(self) -> None:
        for device in self.devices.values():
            device.start_profiling()


__all__ = ["HOST", "MIXED", "MixedBuffer", "MixedDevice", "only_kernels_of", "placements"]
