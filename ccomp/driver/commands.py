"""The work behind each ``ccomp`` subcommand (``ccomp.driver.cli`` parses, this runs)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
from xdsl.printer import Printer

from ccomp.diagnostics import CompileError
from ccomp.driver.cli import BUILD_DIR
from ccomp.driver.dot import PICTURES, draw
from ccomp.driver.emit import CODE_TARGETS
from ccomp.driver.pipeline import STAGES, pipeline_spec, run_passes, stage_specs

log = logging.getLogger(__name__)

SHOWN_VALUES = 64  # a tensor output this small (a histogram) is printed when not written to a file


def _print_ir(module, stream) -> None:
    Printer(stream=stream).print_op(module)
    stream.write("\n")


def build(args: argparse.Namespace) -> int:
    from ccomp.api import get_build, load_source
    from ccomp.driver.auto import build_command as auto_build
    from ccomp.runtime.build import write_build
    from ccomp.frontend import lower_to_l1, parse
    from ccomp.frontend.astprint import format_ast
    from ccomp.driver.signing import check_flags, key_of

    check_flags(args)
    sign = key_of(args.sign)
    if args.target == "auto" and (done := auto_build(args)) is not None:  # placed by profiles (driver/auto.py)
        return done
    if args.emit in PICTURES:  # pictures of the graph and the schedule (driver/dot.py)
        return draw(args.file, _build_target(None, args.target), args.graph, args.emit)
    if args.emit is not None and args.emit not in STAGES:
        raise CompileError(f"unknown stage '{args.emit}'; choose one of {', '.join(STAGES)}")
    target = _build_target(args.emit, args.target)
    if args.print_pipeline:
        print(pipeline_spec(target, args.emit or "kern"))
        return 0
    source = load_source(Path(args.file))
    if args.emit == "ast":
        print(format_ast(parse(source)))
        return 0
    if args.emit is None and not args.print_ir_after_all and not args.save_ir:
        build, cached = get_build(source, target, args.graph, cache=not args.no_cache)
        out = Path(args.out_dir or BUILD_DIR)
        write_build(build, out, sign_key=sign)
        print(f"built {source.name} for {target} in {out}/" + (" (from the cache)" if cached else "")
              + (" (signed)" if sign else ""))
        return 0
    stages: dict[str, str] = {}

    def after(flag, module):
        if args.print_ir_after_all:
            sys.stderr.write(f"// -----// IR after {flag} //----- //\n")
            _print_ir(module, sys.stderr)

    module = lower_to_l1(source)
    stages["graph"] = _text(module)
    after("frontend", module)
    for stage, spec in stage_specs(target, args.emit or "kern"):
        run_passes(module, spec, after)
        stages[stage] = _text(module)
    if args.emit in CODE_TARGETS:
        from ccomp.driver.emit import emit_code
        print(emit_code(module, target).rstrip("\n"))
        return 0
    if args.emit is not None:
        # ended like ccomp-opt's output (xDSL's mlir target adds a blank line), so the
        # two can be compared byte for byte
        sys.stdout.write(stages[args.emit] + "\n")
        return 0
    from ccomp.api import build_from_kern
    build = build_from_kern(source, module, target, args.graph)  # the module lowered above
    out = Path(args.out_dir or BUILD_DIR)
    write_build(build, out, sign_key=sign)
    if args.save_ir:
        (out / "ir").mkdir(exist_ok=True)
        for stage, text in stages.items():
            (out / "ir" / f"{stage}.mlir").write_text(text)
    print(f"built {source.name} for {target} in {out}/")
    return 0


def _build_target(emit: str | None, target: str | None) -> str:
    """``--emit llvm|opencl|glsl`` prints what that target runs, so it is the target;
    a ``-t`` naming another is refused rather than silently overridden."""
    from ccomp.api import check_target

    code = emit if emit in CODE_TARGETS else None
    if code is not None and target not in (None, "auto", code):
        hint = f"--emit {target}" if target in CODE_TARGETS else "no -t"
        raise CompileError(f"--emit {code} prints the code the {code} target runs, but -t asks for {target}; "
                           f"use {hint}, or drop -t")
    return check_target(code or target or "llvm")


def _text(module) -> str:
    import io
    s = io.StringIO()
    _print_ir(module, s)
    return s.getvalue()


def _split(item: str, flag: str) -> tuple[str, str]:
    if "=" not in item:
        raise CompileError(f"{flag} expects NAME=VALUE, got '{item}'")
    name, value = item.split("=", 1)
    return name.strip(), value.strip()


def run(args: argparse.Namespace) -> int:
    from ccomp.driver import actor_cli

    if actor_cli.wanted(args):  # a program of actors: messages in, replies out
        return actor_cli.run(args)
    import ccomp
    import ccomp.api
    from ccomp.runtime.imageio import read_array, write_array
    from ccomp.runtime.devices.base import element_layout
    from ccomp.driver.signing import check_flags, load_verified

    check_flags(args)
    dirs = _build_dirs(args)
    if args.build:
        if dirs:
            raise CompileError(f"-o {dirs[0]} writes a build folder, but --build {args.build} runs one "
                               "that exists; drop one of them")
        prog = load_verified(args.build, args.verify) if args.verify else ccomp.api.load(args.build)
        if args.target not in (None, "auto", prog.target):
            raise CompileError(f"the build in {args.build} is for target {prog.target}, not {args.target}; "
                               f"drop -t, or rebuild it with 'ccomp build FILE -t {args.target} -o {args.build}'")
    elif args.file is None:
        raise CompileError("give a program (FILE) or a build folder (--build DIR)")
    else:
        prog = ccomp.compile_file(args.file, target=args.target or "llvm", function=args.graph, cache=not args.no_cache)
        if dirs:
            from ccomp.runtime.build import write_build
            if prog.target == "auto":  # kernels on several targets (driver/auto.py): no folder format for that
                raise CompileError(f"-t auto placed {prog.name}'s kernels on several targets, and a build folder "
                                   "holds one target's code; drop -o, or build for one target with -t")
            write_build(prog.build, Path(dirs[0]))
            print(f"built {prog.source.name} for {prog.target} in {dirs[0]}/")
    ports = {p.name: p for p in prog.inputs}
    kwargs = {}
    for item in args.input:
        name, value = _split(item, "--input")
        if name not in ports:
            raise CompileError(f"'{prog.name}' has no input '{name}'; its inputs are {', '.join(ports)}")
        port = ports[name]
        if port.is_sparse:
            kwargs[name] = _read_matrix(value, f"input '{name}'")
        elif port.is_buffer:
            kwargs[name] = read_array(value, element_layout(port.type.element_type).lanes, f"input '{name}'",
                                      port.type.get_num_dims())
        else:
            kwargs[name] = _scalar(value, port, prog._input_error)
    wanted = dict(_split(o, "--output") for o in args.output)
    names = [p.name for p in prog.outputs]
    for name in wanted:
        if name not in names:
            raise CompileError(f"'{prog.name}' has no output '{name}'; its outputs are {', '.join(names)}")
    from ccomp.driver import plot, profile_cli
    plot.check_flags(args)  # a bad --plot fails before the run
    result = profile_cli.call(prog, kwargs, args, _call)  # --profile
    if getattr(args, "explain", False):
        for line in prog.explanation or ["no input has format 'auto': nothing was chosen"]:
            print(f"explain: {line}")
    values = [result] if len(names) == 1 else list(result)
    plot.from_run(prog, values, args)  # --plot
    for port, value in zip(prog.outputs, values):
        if port.is_sparse:
            if port.name in wanted:
                how = _write_matrix(wanted[port.name], value, port.tensor, f"output '{port.name}'")
                print(f"{port.name}: wrote {wanted[port.name]} {tuple(value.shape)} {how}")
            else:
                print(f"{port.name}: {port.language_type} {tuple(value.shape)} "
                      f"(not written; add --output {port.name}=FILE.npz)")
        elif port.is_buffer:
            if port.name in wanted:
                write_array(wanted[port.name], value, f"output '{port.name}'", port.type.get_num_dims())
                print(f"{port.name}: wrote {wanted[port.name]} {tuple(value.shape)}")
            else:
                shown = f" {np.array2string(value, separator=' ')}" if port.tensor and value.size <= SHOWN_VALUES else ""
                print(f"{port.name}: {port.language_type} {tuple(value.shape)}{shown} "
                      f"(not written; add --output {port.name}=FILE)")
        else:
            print(f"{port.name} = {np.asarray(value).item()!r}")
            if port.name in wanted:
                np.save(wanted[port.name], np.asarray(value))
    return 0


def _call(prog, kwargs: dict, args: argparse.Namespace):
    """Run ``prog``, with a progress bar on stderr when ``--progress`` says so or, by
    default, when stderr is a terminal (never into a file or pipe)."""
    from ccomp.driver.progress import terminal_bar

    bar = terminal_bar(f"{prog.name} ", sys.stderr, getattr(args, "progress", None))
    if bar is None or "progress" in kwargs:  # an input named 'progress' keeps its name
        return prog(**kwargs)
    try:
        return prog(**kwargs, progress=bar)
    finally:
        bar.close()


def _build_dirs(args: argparse.Namespace) -> list[str]:
    """The folders of ``run -o DIR``. ``-o NAME=FILE`` was once the spelling of
    ``--output``: it still works, with a warning, and moves to ``args.output``."""
    dirs = []
    for item in args.out_dir:
        if "=" in item:
            log.warning("'-o %s': -o is the build folder now, as in 'ccomp build'; write --output %s", item, item)
            args.output.append(item)
        else:
            dirs.append(item)
    if len(dirs) > 1:
        raise CompileError(f"-o names the build folder once, got {', '.join(dirs)}; outputs are --output NAME=FILE")
    return dirs


def _scalar(value: str, port, fail) -> bool | int | float:
    """A scalar input as typed on the command line: ``true``/``false`` for a bool, else a
    number (checked against the port's type by the program, like a Python argument)."""
    if port.language_type == "bool":
        if value.lower() not in ("true", "false"):
            raise fail(port, f"input '{port.name}' is a bool: write true or false, not '{value}'")
        return value.lower() == "true"
    try:
        return float(value) if any(c in value.lower() for c in ".ein") else int(value)
    except ValueError:
        raise fail(port, f"input '{port.name}' is {_article(port.language_type)} scalar; "
                         f"'{value}' is not a number") from None


def _article(type_name: str) -> str:
    return ("an " if type_name[0] in "aeifo" else "a ") + type_name


def _read_matrix(path: str, what: str):
    """A sparse input: a ``scipy.sparse.save_npz`` file, or a dense ``.npy``/``.npz``."""
    from ccomp.runtime.imageio import read_array
    from ccomp.runtime.sparse.formats import SparseInputError
    from ccomp.runtime.sparse.npz import is_sparse_npz, load_npz

    import zipfile

    p = Path(path)
    dense_npz = p.suffix.lower() == ".npz" and p.is_file() and zipfile.is_zipfile(p) and not is_sparse_npz(p)
    if p.suffix.lower() != ".npz" or dense_npz or not p.is_file():
        return read_array(path, 1, what)
    try:
        return load_npz(path)
    except SparseInputError as exc:
        raise CompileError(f"{what}: {exc}") from None


def _write_matrix(path: str, value, fmt: str, what: str) -> str:
    """A sparse output: ``.npz`` as ``scipy.sparse.save_npz`` writes it, in its format (what
    ``load_npz`` and ``--input`` read back), or ``.npy``/``.png`` densified to a (rows, cols)
    array of the matrix's own value type (float32 or float64), since neither can hold a sparse
    matrix. Returns how it was written."""
    from ccomp.runtime.imageio import write_array
    from ccomp.runtime.sparse.formats import SparseInputError, from_value
    from ccomp.runtime.sparse.npz import save_npz

    suffix = Path(path).suffix.lower()
    dtype = _values_dtype(value)
    try:
        if suffix in (".npy", ".png"):
            write_array(path, from_value(value, "dense", dtype).parts["values"], what)
            return f"densified from {fmt}"
        if suffix != ".npz":
            raise CompileError(f"{what}: a sparse matrix is written as .npz (or densified as .npy or .png), "
                               f"not '{Path(path).suffix}'")
        Path(path).parent.mkdir(parents=True, exist_ok=True)  # as write_array does for images
        save_npz(path, from_value(value, "csr" if fmt in ("auto", "dense") else fmt, dtype), dtype)
    except (SparseInputError, OSError) as exc:
        raise CompileError(f"{what}: cannot write '{path}': {exc}") from None
    return fmt


def _values_dtype(value) -> np.dtype:
    """A sparse result's value type: f64 programs return float64 matrices, which must not be
    narrowed to float32 on the way to a file."""
    parts = getattr(value, "parts", None)
    data = (parts.get("data", parts.get("values")) if parts else None)
    dtype = np.dtype(getattr(value, "dtype", None) or getattr(data, "dtype", np.float32))
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def targets(args: argparse.Namespace) -> int:
    from ccomp.runtime.devices.targets import TARGETS, probe

    for name, (_, _, description) in TARGETS.items():
        ok, detail = probe(name)
        status = "available" if ok else "unavailable"
        print(f"{name:8} {status:12} {detail}")
    return 0
