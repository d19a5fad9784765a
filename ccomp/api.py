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
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from ccomp.diagnostics import CompileError, PassError, Source, SourceLoc
from ccomp.dialects import sparse_format
from ccomp.program import Program, memory_budget_bytes
from ccomp.runtime.build import Build, BuildError, read_build
from ccomp.runtime.devices.base import Device
from ccomp.runtime.devices.targets import TARGETS

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
