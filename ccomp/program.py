"""A compiled program bound to a device: :class:`Program`, what ``ccomp.compile`` and
``ccomp.api.load`` return. Calling it binds the inputs (a fast path when their types and
shapes are what the runtime wants), runs the host schedule — natively on llvm — and
hands back the outputs. It needs only the runtime: a build folder runs without the
compiler (the compiling half of the face is :mod:`ccomp.api`)."""

from __future__ import annotations

import threading
import time
from collections import namedtuple
from typing import Any

from ccomp.diagnostics import CompileError, SourceLoc, error_at_location
from ccomp.runtime.abi import KernelBuildError
from ccomp.runtime.build import Build
from ccomp.runtime.capabilities import check_types
from ccomp.runtime.devices.targets import TargetUnavailable, create_device
from ccomp.runtime.fast_bind import FastBinder
from ccomp.runtime.host import ScheduleCheckError
from ccomp.runtime.native_host import make_runner
from ccomp.runtime.pool import AllocationError, BudgetError, BufferPool, resolve_budget
from ccomp.runtime.profile import Profile, Recorder
from ccomp.runtime.signature import Port
from ccomp.runtime.tensor_ports import Variants, flatten, regroup


def memory_budget_bytes(value: int | str | None) -> int:
    """The pool budget in bytes from ``memory_budget`` or ``CCOMP_MEMORY_BUDGET``; a
    value that is not a size is a :class:`CompileError` saying what is accepted."""
    try:
        return resolve_budget(value)
    except BudgetError as exc:
        raise CompileError(str(exc)) from None


class Program:
    """A compiled program bound to a device; call it with inputs by name or position.

    ``pool`` is its :class:`BufferPool` (``free_bytes``, ``live_bytes``, ``hits``, ...);
    ``clear()`` gives the free buffers it keeps for reuse back to the driver."""

    def __init__(self, build: Build, compile_seconds: float = 0.0, cached: bool = False,
                 memory_budget: int | str | None = None):
        budget = memory_budget_bytes(memory_budget)  # before the device: a typo costs no driver start
        self.build, self.source, self.target = build, build.source, build.target
        self.name = build.function
        self.inputs, self.outputs = build.ports()
        self.compile_seconds, self.cached = compile_seconds, cached
        start = time.perf_counter()
        try:
            self.device = create_device(self.target)
            check_types(build.module, build.source, {p.name: (p.loc, p.type) for p in self.inputs},
                        self.target, self.device.missing_types())
            self.device.load(build.module, build.code)
        except TargetUnavailable as exc:
            raise CompileError(str(exc)) from None
        except KernelBuildError as exc:
            raise self._driver_error(exc) from None
        self.backend_seconds = time.perf_counter() - start
        self.pool = BufferPool(self.device, budget)
        self.variants = Variants(build.module, build.function)
        self._runners = [make_runner(v.fn, self.device, self.pool) for v in self.variants.variants]
        self._runner = self._runners[0]
        self._binder = FastBinder.for_program(self.inputs, self.outputs, self.variants.variants)
        self._lock = threading.Lock()
        self._profiles = Recorder(self.target, build.module)  # runtime/profile.py
        names = [p.name for p in self.outputs]
        self._result_type = namedtuple(f"{self.name}_outputs", names, rename=True) if len(names) > 1 else None

    def _driver_error(self, exc: KernelBuildError) -> CompileError:
        """The driver's log plus where in the program the rejected kernel's code came from."""
        from ccomp.dialects import kern

        locs = []
        for op in self.build.module.body.block.ops:
            if isinstance(op, kern.KernelOp) and op.kernel_name in exc.kernel:
                for inner in op.walk():
                    text = str(inner.location)
                    if "loc(" in text and text not in locs:
                        locs.append(text)
        err = error_at_location(None, f"the {exc.target} driver rejected kernel @{exc.kernel}",
                                notes=[f"driver log:\n{exc.log.strip()}"] +
                                      ([f"the kernel computes code from {', '.join(locs[:6])}"] if locs else []))
        return err

    def _input_error(self, port: Port, message: str) -> CompileError:
        return CompileError(message, port.loc, self.source if port.loc is not None else None)

    def _located(self, location: Any, message: str) -> CompileError:
        """An error at an IR location of this program (reported in the caller's file name)."""
        from xdsl.dialects.builtin import FileLineColLoc

        if isinstance(location, FileLineColLoc):
            loc = SourceLoc(self.source.name, location.line.data, location.column.data)
            return CompileError(message, loc, self.source)
        return error_at_location(location, message)

    @property
    def timings(self) -> dict[str, float]:
        """Seconds spent in upload, run and download by the last call."""
        return dict(self._runner.timings)

    @property
    def launches(self) -> list[tuple[str, tuple[int, ...]]]:
        """The kernels the last call ran, in order, with their grids (x first)."""
        return list(self._runner.launches)

    @property
    def explanation(self) -> list[str]:
        """Why the last call ran with the storage formats it did (``auto`` inputs), one
        line per input, and for a network how each connection delivers spikes; empty
        when there is nothing to explain."""
        from ccomp.dialects.snn import delivery_lines

        return list(self.variants.explanation) + delivery_lines(self.build.host)

    @property
    def last_profile(self) -> Profile | None:
        """The :class:`~ccomp.runtime.profile.Profile` of the last call made with
        ``profile=True`` or inside ``with prog.profile()``."""
        return self._profiles.last

    def profile(self) -> Any:
        """``with prog.profile() as p:`` profiles every call in the block into ``p``
        (a :class:`~ccomp.runtime.profile.Profile`: ``p.kernels()``, ``p.table()``,
        ``p.write_trace(path)``)."""
        return self._profiles.block()

    def _run(self, args: Any, progress: Any, profile: bool) -> list[Any]:
        if profile or self._profiles.blocks:  # else nothing but the plain call
            return self._profiles.run(self._runner, lambda: self._runner.run(args, progress))
        return self._runner.run(args, progress)

    def clear(self) -> None:
        """Release the free buffers the pool keeps for reuse, and the storage of earlier
        outputs the caller has dropped (``pool.free_bytes`` is 0 afterwards)."""
        with self._lock:
            for runner in self._runners:
                runner.reclaim()
            self.pool.clear()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the program. ``progress=callable`` (when callable; a program input named
        ``progress`` takes anything else) is called as ``progress(done, total)`` after
        each iteration of an outermost repeat zone; an exception it raises, or Ctrl-C,
        stops the run and leaves the program usable."""
        progress, profile = None, False  # profile=True: see last_profile (unless an input is named so)
        if kwargs:  # positional inputs only: nothing to look for
            if callable(kwargs.get("progress")):
                progress = kwargs.pop("progress")
            if isinstance(kwargs.get("profile"), bool) and all(p.name != "profile" for p in self.inputs):
                profile = kwargs.pop("profile")
        binder = self._binder
        fast = binder.bind(args, kwargs) if binder is not None else None
        if fast is not None:  # values already as the runtime wants them: skip the checks' costs
            with self._lock:
                try:
                    outs = self._run(fast, progress, profile) if profile or self._profiles.blocks \
                        else self._runner.run(fast, progress)
                except (ScheduleCheckError, AllocationError) as exc:
                    raise self._located(exc.location, exc.message) from None
            return outs[0] if self._result_type is None else self._result_type(*outs)
        from ccomp.runtime.signature import bind_inputs  # here, not above: ~1 us a call on the fast path

        bound = bind_inputs(self.inputs, args, kwargs, self.source, f"'{self.name}'")
        with self._lock:  # one device, one pool: calls from several threads take turns
            index, bound = self.variants.select(self.inputs, bound, self._input_error)
            self._runner = self._runners[index]
            try:
                outs = self._run(flatten(bound), progress, profile)
            except (ScheduleCheckError, AllocationError) as exc:
                raise self._located(exc.location, exc.message) from None
            outs = regroup(self.outputs, outs)
        if self._result_type is None:
            return outs[0]
        return self._result_type(*outs)

    def __repr__(self) -> str:
        ins = ", ".join(map(str, self.inputs))
        outs = ", ".join(map(str, self.outputs))
        return f"<ccomp.Program {self.name}({ins}) -> ({outs}) on {self.target}>"
