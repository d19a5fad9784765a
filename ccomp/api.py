"""The Python face of ccomp: ``ccomp.compile(...)`` returns a callable :class:`Program`.

    prog = ccomp.compile_file("examples/tonemap.cn", target="llvm")   # or compile(Path(...))
    out = prog(src=image, gain=1.2)

This module wires the stages together — frontend, passes, code generation, device —
which is why it (with the CLI and ``ccomp-opt``) is the only place that imports
all of them. Compiled builds are cached on disk (:mod:`ccomp.driver.cache`).

The compiler's parts are imported inside the functions that compile: :func:`load`
runs a build folder with the runtime alone, importing no frontend, pass or backend.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import namedtuple
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from ccomp.runtime.build import Build, BuildError, read_build
from ccomp.diagnostics import CompileError, PassError, Source, SourceLoc, error_at_location
from ccomp.dialects import sparse_format
from ccomp.runtime.abi import KernelBuildError
from ccomp.runtime.capabilities import check_types
from ccomp.runtime.devices.base import Device
from ccomp.runtime.host import ScheduleCheckError
from ccomp.runtime.fast_bind import FastBinder
from ccomp.runtime.native_host import make_runner
from ccomp.runtime.profile import Profile, Recorder
from ccomp.runtime.pool import AllocationError, BudgetError, BufferPool, resolve_budget
from ccomp.runtime.devices.targets import TARGETS, TargetUnavailable, create_device
from ccomp.runtime.signature import Port
from ccomp.runtime.tensor_ports import Variants, flatten, regroup

if TYPE_CHECKING:
    from ccomp.driver.pipeline import PassCallback, PassTiming

log = logging.getLogger(__name__)


def load_source(src: str | os.PathLike[str]) -> Source:
    """What :func:`compile` compiles: a ``pathlib.Path`` (any ``os.PathLike``) is a
    file, a ``str`` is program text — never guessed to be a path, so text from anyone
    cannot make ccomp read (and quote) a file. A ``str`` that looks like a path is
    refused with a pointer to :func:`compile_file`."""
    from ccomp.frontend.text import looks_like_path, source_from_file, source_from_text

    if isinstance(src, os.PathLike):
        return source_from_file(src)
    if isinstance(src, str) and looks_like_path(src):
        shown = src if len(src) <= 80 else src[:77] + "..."
        raise CompileError(f"ccomp.compile() reads a str as program text, and {shown!r} looks like "
                           f"a path; to compile a file use ccomp.compile_file({shown!r}) or pass a pathlib.Path")
    return source_from_text(src)


def check_target(target: str) -> str:
    if target == "auto":
        return "llvm"
    if target not in TARGETS:
        raise CompileError(f"unknown target '{target}'; choose one of {', '.join(TARGETS)} or auto")
    return target


def param_locations(source: Source, function: str) -> dict[str, SourceLoc]:
    """Where each parameter of graph ``function`` is declared (for input errors)."""
    from ccomp.frontend import parse

    program = parse(source)
    return {p.name: SourceLoc(source.name, p.pos.line, p.pos.col)
            for d in program.decls if d.name == function for p in d.params}


def compile_to_kern(source: Source, after_pass: PassCallback | None = None,
                    timings: list[PassTiming] | None = None, target: str = "llvm") -> ModuleOp:
    """Frontend plus passes: the L2 module code is generated from."""
    from ccomp.driver.pipeline import lower
    from ccomp.frontend import lower_to_l1

    return lower(lower_to_l1(source), "kern", after_pass, timings, target)


def generate(module: ModuleOp, target: str, **options: Any) -> Any:
    """What ``target``'s device loads for the kernels of ``module``: a ``KernelSource``
    per kernel (glsl, opencl) or an ``LLVMCode`` (llvm), every variant included, so a
    device never needs the backend. ``options`` go to the backend (driver limits from
    ``Device.codegen_options``; ``widen`` for llvm). A backend's :class:`PassError`
    (IR it cannot express) becomes a located :class:`CompileError`."""
    try:
        if target == "glsl":
            from ccomp.backends.cstyle.glsl import emit_glsl
            return emit_glsl(module, **options)
        if target == "opencl":
            from ccomp.backends.cstyle.opencl import emit_opencl
            return emit_opencl(module, **options)
        from ccomp.backends.llvm.codegen import emit_llvm_code
        return emit_llvm_code(module, **options)
    except PassError as exc:
        raise exc.to_compile_error() from None


def prepare(device: Device, module: ModuleOp) -> None:
    """Generate code for the kernels of ``module`` suited to ``device`` (its limits) and
    load it there: for running hand-written ``kern`` IR on a device (tests, benchmarks)."""
    device.load(module, generate(module, device.name, **device.codegen_options()))


def build_program(source: Source, target: str, function: str | None = None) -> Build:
    """Compile ``source`` for ``target`` into an in-memory :class:`Build`."""
    return build_from_kern(source, compile_to_kern(source, target=target), target, function)


def build_from_kern(source: Source, module: ModuleOp, target: str, function: str | None = None) -> Build:
    """A :class:`Build` of an already lowered L2 ``module``: code generation only."""
    names = list(dict.fromkeys(
        sparse_format.program_of(op) for op in module.body.block.ops if isinstance(op, func.FuncOp)))
    if function is None:
        function = names[-1]
    elif function not in names:
        raise CompileError(f"no graph named '{function}'; the program has {', '.join(names)}")
    code = generate(module, target)
    locs = param_locations(source, function)
    if target == "llvm":
        return Build(source, target, module, function, locs, llvm=code)
    return Build(source, target, module, function, locs, sources=code)


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


def get_build(source: Source, target: str, function: str | None = None, cache: bool = True) -> tuple[Build, bool]:
    """A build of ``source`` for ``target``: from the cache when the program, target and
    options are unchanged (and ``cache`` is on), else compiled (and cached)."""
    from ccomp.driver import cache as build_cache

    key = build_cache.cache_key(source.text, target, function)
    build = build_cache.lookup(key) if cache else None
    if build is None:
        build = build_program(source, target, function)
        if cache:
            build_cache.store(key, build)
        return build, False
    build.source = source  # report diagnostics under the name the caller used
    build.param_locs = {n: SourceLoc(source.name, loc.line, loc.col) for n, loc in build.param_locs.items()}
    return build, True


def compile(src_or_path: str | os.PathLike[str], target: str = "llvm", function: str | None = None,
            cache: bool = True, memory_budget: int | str | None = None) -> Program:
    """Compile a ``.cn`` program for ``target`` and return a callable :class:`Program`:
    a ``pathlib.Path`` is read as a file, a ``str`` is the program's text (a ``str``
    that looks like a path is an error; see :func:`compile_file`, :func:`compile_source`).
    An unchanged program is served from the build cache unless ``cache=False``.
    ``memory_budget`` (bytes, or text such as ``"512MB"``, ``"2GiB"``; default
    ``CCOMP_MEMORY_BUDGET`` or 1 GiB) bounds the free buffers the program keeps for
    reuse; it is a run-time setting, not part of the build. Errors are
    :class:`ccomp.CompileError` with a located diagnostic as their message."""
    return _compile(lambda: load_source(src_or_path), target, function, cache, memory_budget)


def compile_file(path: str | os.PathLike[str], target: str = "llvm", function: str | None = None,
                 cache: bool = True, memory_budget: int | str | None = None) -> Program:
    """Compile the ``.cn`` file at ``path`` (a ``str`` or a ``pathlib.Path``); the
    options are :func:`compile`'s."""
    from ccomp.frontend.text import source_from_file

    return _compile(lambda: source_from_file(path), target, function, cache, memory_budget)


def compile_source(text: str, name: str = "<string>", target: str = "llvm", function: str | None = None,
                   cache: bool = True, memory_budget: int | str | None = None) -> Program:
    """Compile program ``text``; diagnostics call it ``name``. The options are
    :func:`compile`'s."""
    from ccomp.frontend.text import source_from_text

    return _compile(lambda: source_from_text(text, name), target, function, cache, memory_budget)


def _compile(read: Callable[[], Source], target: str, function: str | None, cache: bool,
             memory_budget: int | str | None) -> Program:
    """The three entry points past reading the source (``read``, called after the
    target and budget are checked, so a typo there costs no file read)."""
    start = time.perf_counter()
    if target == "auto":  # placed by measured device profiles (partition-devices; driver/auto.py)
        from ccomp.driver.auto import compile_auto
        return compile_auto(read, function, cache, memory_budget_bytes(memory_budget))  # type: ignore[return-value]
    target = check_target(target)
    budget = memory_budget_bytes(memory_budget)  # checked before a compile
    source = read()
    build, cached = get_build(source, target, function, cache)
    seconds = time.perf_counter() - start
    log.info("%s %s for %s in %.3f s", "loaded" if cached else "compiled", source.name, target, seconds)
    return Program(build, seconds, cached, budget)


def load(folder: str | Path, memory_budget: int | str | None = None,
         verify_key: bytes | os.PathLike[str] | None = None) -> Program:
    """A :class:`Program` from a build folder written by ``ccomp build -o``
    (``memory_budget`` as for :func:`compile`). With ``verify_key`` (the key's bytes, or
    its file as a ``pathlib.Path``) the folder is refused unless that key signed it
    (``ccomp build --sign KEY``) and no file changed since: ``ccomp run --build DIR
    --verify KEY`` from Python."""
    from ccomp.runtime.trust import TrustError

    try:
        key = None if verify_key is None else _signing_key(verify_key)
        return Program(read_build(Path(folder), verify_key=key), memory_budget=memory_budget)
    except (BuildError, TrustError) as exc:
        raise CompileError(str(exc)) from None


def _signing_key(value: bytes | os.PathLike[str]) -> bytes:
    """The key ``load(verify_key=)`` checks with: bytes as they are, a path read as ``ccomp
    run --verify KEYFILE`` reads it. A ``str`` is refused, as it could be either."""
    from ccomp.runtime.trust import MAX_KEY_BYTES, MIN_KEY_BYTES, read_key

    if isinstance(value, os.PathLike):
        return read_key(value)
    if not isinstance(value, (bytes, bytearray)):
        raise CompileError(f"verify_key is the key as bytes or its file as a pathlib.Path, "
                           f"not {type(value).__name__}")
    if not MIN_KEY_BYTES <= len(value) <= MAX_KEY_BYTES:
        raise CompileError(f"verify_key has {len(value)} bytes; a key has {MIN_KEY_BYTES} to {MAX_KEY_BYTES}")
    return bytes(value)


def map_program(prog: Any, inputs: Any, runtime: str = "local", **options: Any) -> Any:
    """``ccomp.map``: run ``prog`` over many inputs, here or as Ray tasks
    (:func:`ccomp.driver.batch_map.map_program` says how; docs/scaleout.md)."""
    from ccomp.driver.batch_map import map_program as run

    return run(prog, inputs, runtime, **options)


def row_blocks(prog: Any, name: str, matrix: Any, blocks: int = 2, runtime: str = "ray", **options: Any) -> Any:
    """``ccomp.row_blocks``: ``prog`` with its sparse input ``name`` split into row blocks
    across workers (:func:`ccomp.driver.row_blocks.row_blocks`; docs/scaleout.md)."""
    from ccomp.driver.row_blocks import row_blocks as split

    return split(prog, name, matrix, blocks, runtime, **options)


__all__ = ["compile", "compile_file", "compile_source", "load", "Program", "CompileError"]
