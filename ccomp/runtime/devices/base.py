"""The interface every execution target implements, and the element-type mapping.

A device compiles the code generated for the ``kern.kernel`` ops of an L2 module once
(``load``), then the host schedule (``ccomp.runtime.host``) drives it: it allocates buffers, uploads
inputs, launches kernels over index spaces and downloads results. Buffers are opaque
handles owned by the device; NumPy arrays cross the boundary only at upload and
download, so a whole schedule runs with one copy in and one copy out.
"""

from __future__ import annotations

import ctypes
import functools

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects.builtin import (
    Float32Type,
    Float64Type,
    IndexType,
    IntegerType,
    MemRefType,
    ModuleOp,
    VectorType,
)
from xdsl.ir import Attribute


@dataclass(frozen=True)
class ElementLayout:
    """How one memref element is stored: a NumPy scalar dtype times ``lanes``."""

    dtype: np.dtype
    lanes: int  # 1 for scalars, N for vector<NxT>


@functools.lru_cache(maxsize=256)  # types are immutable; runs ask at every call
def scalar_dtype(t: Attribute) -> np.dtype:
    """The NumPy dtype of a scalar MLIR type."""
    if isinstance(t, Float32Type):
        return np.dtype(np.float32)
    if isinstance(t, Float64Type):
        return np.dtype(np.float64)
    if isinstance(t, IndexType):
        return np.dtype(np.int64)
    if isinstance(t, IntegerType):
        width = t.width.data
        return np.dtype({1: np.bool_, 8: np.int8, 16: np.int16, 32: np.int32, 64: np.int64}[width])
    raise TypeError(f"no NumPy dtype for {t}")


@functools.lru_cache(maxsize=256)
def element_layout(t: Attribute) -> ElementLayout:
    """The storage layout of a memref element type (scalar or ``vector<NxT>``)."""
    if isinstance(t, VectorType):
        return ElementLayout(scalar_dtype(t.element_type), t.get_shape()[0])
    return ElementLayout(scalar_dtype(t), 1)


def nbytes(memref: MemRefType, dims: Sequence[int]) -> int:
    """Bytes of a buffer for ``memref`` with runtime ``dims`` (elements packed)."""
    layout = element_layout(memref.element_type)
    return int(np.prod(dims, dtype=np.int64)) * layout.lanes * layout.dtype.itemsize


def address_of(a: np.ndarray) -> int:
    """The address of ``a``'s first element, for native code. Through a ctypes view when
    ``a`` is writable (0.8 us here, a third of ``__array_interface__``; a launch or a
    program call takes several)."""
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(a))
    except (TypeError, ValueError):  # read-only, or not a plain buffer
        return a.__array_interface__["data"][0]


def array_shape(memref: MemRefType, dims: Sequence[int]) -> tuple[int, ...]:
    """The NumPy shape of a memref with runtime ``dims``: vector lanes become a last axis."""
    layout = element_layout(memref.element_type)
    return tuple(dims) + ((layout.lanes,) if layout.lanes > 1 else ())


class Device(ABC):
    """One execution target. Subclasses: LLVM (host cores), OpenCL, GLSL."""

    name: str = "device"
    upload_copies: bool = True
    """False when ``upload`` wraps the caller's array instead of copying it."""
    download_is_view: bool = False
    """True when ``download`` returns the buffer's own storage rather than a copy."""
    queue_depth: int | None = None
    """For devices whose launches return before they run (OpenCL, GL): how many the
    host may queue before it waits with ``sync``, so Ctrl-C stops a run promptly
    instead of leaving a long queue to drain. None: launches run when called."""

    max_loop_iterations: int | None = None
    """The most loop iterations one kernel invocation may run in all its loops, where
    the driver cuts them silently beyond (Mesa's llvmpipe: 65535, see
    ``gl_limits.py``); None: no such limit. Runners that can split work consult it."""

    records_transfers: bool = False
    """True when the device reports its own copies to a profiler (a mixed placement's
    migrations), so the host does not time its uploads and downloads again."""

    def codegen_options(self) -> dict[str, Any]:
        """Options for the code generator that suit this device (its driver's limits);
        the face passes them on when it generates code for a device it holds."""
        return {}

    def missing_types(self) -> dict[str, str]:
        """Element types (``f64``, ``i64``) this device cannot run, each with why (the
        driver extension it lacks). The face checks a build against them before
        loading it (``runtime/capabilities.py``), so a program that uses one gets an
        error at that use rather than a driver's compile log."""
        return {}

    @abstractmethod
    def load(self, module: ModuleOp, code: Any) -> None:
        """Make the kernels of ``module`` runnable from ``code`` the backend generated for
        this target (possibly read back from a build folder): a ``KernelSource`` per
        kernel for the C-style targets, an ``LLVMCode`` for LLVM. Called once before any
        launch; the device compiles generated code, never the IR."""

    @abstractmethod
    def alloc(self, memref: MemRefType, dims: Sequence[int]) -> Any:
        """A new uninitialised buffer for ``memref`` with runtime ``dims``."""

    @abstractmethod
    def upload(self, memref: MemRefType, array: np.ndarray) -> Any:
        """A buffer holding ``array`` (already of the right shape and dtype)."""

    @abstractmethod
    def download(self, buffer: Any) -> np.ndarray:
        """The buffer's contents as a NumPy array of the memref's shape."""

    @abstractmethod
    def launch(self, kernel: str, grid: Sequence[int], args: Sequence[Any]) -> Any:
        """Run ``kernel`` over ``grid`` with ``args`` (buffers and Python scalars, in
        binding order). Returns the combined value of a reduce kernel, else None."""

    def prepare_launch(self, kernel: str, grid: Sequence[int], args: Sequence[Any]) -> Callable[[], Any]:
        """``launch(kernel, grid, args)`` made ready to be issued many times: each call of
        the result issues it once. A repeat zone's launches repeat with the period of its
        ping-pong, so the host prepares each distinct one once before the loop and then
        only calls these (``runtime/host_loops.py``); a device packs arguments, resolves
        bindings and builds launch objects here instead of at every launch. Only for
        kernels that are not reductions (no value comes back); ``args``' buffers stay
        alive while the result is in use. This default packs at every call."""
        return functools.partial(self.launch, kernel, tuple(grid), tuple(args))

    def download_rows(self, buffer: Any, first: int, rows: int, out: np.ndarray) -> None:
        """Copy rows ``[first, first + rows)`` of the outermost dimension into ``out``
        (the whole buffer's shape): a split kernel's band merged back into host memory
        (``devices/mixed.py``). This default downloads the whole buffer."""
        out[first:first + rows] = self.download(buffer)[first:first + rows]

    def release(self, buffer: Any) -> None:
        """Give a buffer back early; the default lets garbage collection do it."""

    def sync(self) -> None:
        """Wait until every queued launch has run (a no-op where launches are synchronous)."""

    def start_profiling(self) -> None:
        """Make the device's own timers available to ``timed`` (OpenCL: a queue with
        profiling enabled). Called before a profiled call; a no-op by default."""

    def timed(self, issue: Callable[[], Any]) -> tuple[Any, Callable[[], int]]:
        """Call ``issue`` (one launch) and return its result and a function giving the
        launch's time on the device in nanoseconds, asked once the call is over (so a
        queueing device is not waited for at every launch). This default times the
        launch with host timers and a ``sync``."""
        from ccomp.runtime.profile import sync_timed

        return sync_timed(self, issue)
