"""The work behind each ``ccomp`` subcommand (``ccomp.cli`` parses, this runs)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from xdsl.printer import Printer

from ccomp.diagnostics import CompileError
from ccomp.pipeline import STAGES


def _print_ir(module, stream) -> None:
    Printer(stream=stream).print_op(module)
    stream.write("\n")


def build(args: argparse.Namespace) -> int:
    from ccomp.api import check_target, load_source
    from ccomp.frontend import lower_to_l1, parse
    from ccomp.frontend.astprint import format_ast
    from ccomp.pipeline import lower

    target = check_target(args.target)
    if args.emit is not None and args.emit not in STAGES:
        raise CompileError(f"unknown stage '{args.emit}'; choose one of {', '.join(STAGES)}")
    source = load_source(args.file)
    if args.emit == "ast":
        print(format_ast(parse(source)))
        return 0
    after = None
    if args.print_ir_after_all:
        def after(flag, module):
            sys.stderr.write(f"// -----// IR after {flag} //----- //\n")
            _print_ir(module, sys.stderr)
    module = lower_to_l1(source)
    if args.print_ir_after_all:
        sys.stderr.write("// -----// IR after frontend //----- //\n")
        _print_ir(module, sys.stderr)
    stage = args.emit if args.emit not in (None, "llvm") else "kern"
    lower(module, stage, after)
    if args.emit == "llvm":
        from ccomp.backends.llvm.lower import emit_llvm_ir
        print(emit_llvm_ir(module))
        return 0
    if args.emit is not None:
        _print_ir(module, sys.stdout)
        return 0
    out = Path(args.output or "build")
    write_artefacts(out, source, module, target)
    print(f"built {source.name} for {target} in {out}/")
    return 0


def write_artefacts(out: Path, source, module, target: str) -> None:
    """The build folder: the kernel IR, the generated code, and a manifest."""
    from xdsl.dialects import func

    from ccomp.dialects import kern

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CompileError(f"cannot create output folder '{out}': {exc}") from None
    with open(out / "kern.mlir", "w") as f:
        _print_ir(module, f)
    files = ["kern.mlir"]
    if target == "llvm":
        from ccomp.backends.llvm.lower import emit_llvm_ir
        (out / "kernels.ll").write_text(emit_llvm_ir(module))
        files.append("kernels.ll")
    kernels = [op.sym_name.data for op in module.body.block.ops if isinstance(op, kern.KernelOp)]
    graphs = [op.sym_name.data for op in module.body.block.ops if isinstance(op, func.FuncOp)]
    manifest = {"schema": "ccomp-build", "version": 1, "source": source.name, "target": target,
                "graphs": graphs, "kernels": kernels, "files": files}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _split(item: str, flag: str) -> tuple[str, str]:
    if "=" not in item:
        raise CompileError(f"{flag} expects NAME=VALUE, got '{item}'")
    name, value = item.split("=", 1)
    return name.strip(), value.strip()


def run(args: argparse.Namespace) -> int:
    import ccomp
    from ccomp.imageio import read_array, write_array
    from ccomp.runtime.device import element_layout

    prog = ccomp.compile(args.file, target=args.target, function=args.graph)
    ports = {p.name: p for p in prog.inputs}
    kwargs = {}
    for item in args.input:
        name, value = _split(item, "--input")
        if name not in ports:
            raise CompileError(f"'{prog.name}' has no input '{name}'; its inputs are {', '.join(ports)}")
        port = ports[name]
        if port.is_buffer:
            kwargs[name] = read_array(value, element_layout(port.type.element_type).lanes, f"input '{name}'")
        else:
            try:
                kwargs[name] = float(value) if "." in value or "e" in value.lower() else int(value)
            except ValueError:
                raise CompileError(f"input '{name}' is a {port.type} scalar; '{value}' is not a number") from None
    wanted = dict(_split(o, "--output") for o in args.output)
    names = [p.name for p in prog.outputs]
    for name in wanted:
        if name not in names:
            raise CompileError(f"'{prog.name}' has no output '{name}'; its outputs are {', '.join(names)}")
    result = prog(**kwargs)
    values = [result] if len(names) == 1 else list(result)
    for port, value in zip(prog.outputs, values):
        if port.is_buffer:
            if port.name in wanted:
                write_array(wanted[port.name], value, f"output '{port.name}'")
                print(f"{port.name}: wrote {wanted[port.name]} {tuple(value.shape)}")
            else:
                print(f"{port.name}: image {tuple(value.shape)} (not written; add --output {port.name}=FILE)")
        else:
            print(f"{port.name} = {np.asarray(value).item()!r}")
            if port.name in wanted:
                np.save(wanted[port.name], np.asarray(value))
    return 0


def targets(args: argparse.Namespace) -> int:
    from ccomp.runtime.targets import TARGETS, probe

    for name, (_, _, description) in TARGETS.items():
        ok, detail = probe(name)
        status = "available" if ok else "unavailable"
        print(f"{name:8} {status:12} {detail}")
    return 0
