"""``ccomp run --map GLOB --out DIR [--on ray]`` and ``ccomp run p.cn --on ray``.

    ccomp run examples/tonemap.cn --map 'in/*.png' --out out/ --input gain=1.2 --on ray

``--map [NAME=]GLOB`` runs the program once per matching file, bound to input NAME (by
default the program's only image or tensor input); other inputs come from ``--input``
and are the same for every run. Each buffer output is written to ``DIR/<stem><suffix>``
(``DIR/<stem>_<output><suffix>`` when there are several; PNG inputs give PNG outputs,
others ``.npy``); scalar outputs go to ``DIR/scalars.jsonl``. Files are read and
written here, so workers need no shared file system. A file that cannot be read, or
that the program refuses, fails its own item; the run goes on, prints a summary of
failures and exits 1. ``--on`` is ``local`` (default), ``ray`` or ``ray://HOST:PORT``;
an actor program with ``--on ray`` places each actor in a Ray actor process
(:mod:`ccomp.driver.ray_actors_cli`).
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ccomp.diagnostics import CompileError


def add_arguments(r: argparse.ArgumentParser) -> None:
    """The scale-out options of ``ccomp run`` (a hook in cli.py)."""
    g = r.add_argument_group("batch runs and scale-out")
    g.add_argument("--map", metavar="[NAME=]GLOB", help="run once per file matching GLOB, bound to input NAME")
    g.add_argument("--out", metavar="DIR", help="with --map: the folder the outputs are written to")
    g.add_argument("--on", metavar="WHERE", default=None,
                   help="where --map items or an actor program run: local (default), ray (a local Ray "
                        "instance) or ray://HOST:PORT (an existing cluster)")


def wanted(args: argparse.Namespace) -> bool:
    return getattr(args, "map", None) is not None or getattr(args, "on", None) not in (None, "local")


def run(args: argparse.Namespace) -> int:
    from ccomp.driver import actor_cli
    from ccomp.runtime.scaleout.ray_env import parse_on

    runtime, address = parse_on(args.on)
    if args.map is None:
        if actor_cli.wanted(args):
            from ccomp.driver.ray_actors_cli import run as run_actors
            return run_actors(args, address)
        raise CompileError(f"--on {args.on} runs --map batches and actor programs; add --map GLOB for a batch run")
    if args.out is None:
        raise CompileError("--map needs --out DIR, the folder its outputs are written to")
    prog = _program(args)
    name, files = _files(prog, args.map)
    fixed = _fixed_inputs(prog, args.input, name)
    items, unread = _read_items(prog, name, files, fixed)
    from ccomp.driver.batch_map import map_program
    from ccomp.driver.progress import ProgressBar

    bar = ProgressBar(sys.stderr, "map ") if sys.stderr.isatty() else None
    try:
        if runtime == "ray":
            from ccomp.runtime.scaleout.ray_env import connected
            with connected(address):
                res = map_program(prog, [kw for _, kw in items], "ray", address=address, progress=bar)
        else:
            res = map_program(prog, [kw for _, kw in items], "local", progress=bar)
    finally:
        if bar is not None:
            bar.close()
    failures = {files.index(f): err for f, err in unread.items()}
    failures.update({files.index(items[i][0]): err for i, err in res.failures.items()})
    written = _write(prog, Path(args.out), [(f, res.results[i]) for i, (f, _) in enumerate(items)
                                             if i not in res.failures])
    n, bad = len(files), len(failures)
    print(f"map: {n - bad} of {n} item(s) ran, {bad} failed; wrote {written} file(s) to {args.out}/"
          + (f" on Ray ({len(res.workers)} worker process(es))" if runtime == "ray" else ""), file=sys.stderr)
    for i in sorted(failures)[:20]:
        print(f"  {files[i]}: {failures[i]}", file=sys.stderr)
    if bad > 20:
        print(f"  ... and {bad - 20} more", file=sys.stderr)
    return 1 if failures else 0


def _program(args: argparse.Namespace) -> Any:
    import ccomp.api

    if args.build:
        return ccomp.api.load(args.build)
    if args.file is None:
        raise CompileError("give a program (FILE) or a build folder (--build DIR)")
    return ccomp.api.compile_file(args.file, target=args.target or "llvm", function=args.graph,
                                  cache=not args.no_cache)


def _files(prog: Any, spec: str) -> tuple[str, list[str]]:
    buffers = [p.name for p in prog.inputs if p.is_buffer and not p.is_sparse]
    if "=" in spec and spec.split("=", 1)[0].isidentifier():
        name, pattern = spec.split("=", 1)
        if name not in {p.name for p in prog.inputs}:
            raise CompileError(f"--map {spec}: '{prog.name}' has no input '{name}'; its inputs are "
                               f"{', '.join(p.name for p in prog.inputs)}")
    elif len(buffers) == 1:
        name, pattern = buffers[0], spec
    else:
        raise CompileError(f"--map {spec}: say which input the files go to (--map NAME=GLOB); "
                           f"'{prog.name}' has image/tensor inputs {', '.join(buffers) or 'none'}")
    files = sorted(glob.glob(pattern))
    if not files:
        raise CompileError(f"--map {spec}: no file matches '{pattern}'")
    return name, files


def _fixed_inputs(prog: Any, given: list[str], mapped: str) -> dict:
    from ccomp.driver.commands import _scalar, _split
    from ccomp.runtime.devices.base import element_layout
    from ccomp.runtime.imageio import read_array

    ports = {p.name: p for p in prog.inputs}
    out = {}
    for item in given:
        name, value = _split(item, "--input")
        if name == mapped:
            raise CompileError(f"--input {item}: '{name}' is the input --map binds")
        if name not in ports:
            raise CompileError(f"'{prog.name}' has no input '{name}'; its inputs are {', '.join(ports)}")
        p = ports[name]
        if p.is_buffer:
            out[name] = read_array(value, element_layout(p.type.element_type).lanes, f"input '{name}'",
                                   p.type.get_num_dims())
        else:
            out[name] = _scalar(value, p, prog._input_error)
    return out


def _read_items(prog: Any, name: str, files: list[str], fixed: dict) -> tuple[list, dict[str, str]]:
    from ccomp.runtime.devices.base import element_layout
    from ccomp.runtime.imageio import read_array

    port = next(p for p in prog.inputs if p.name == name)
    lanes = element_layout(port.type.element_type).lanes if port.is_buffer else 1
    items, unread = [], {}
    for f in files:
        try:
            items.append((f, {**fixed, name: read_array(f, lanes, f"input '{name}'", port.type.get_num_dims())}))
        except CompileError as exc:
            unread[f] = str(exc)
    return items, unread


def _write(prog: Any, out: Path, done: list[tuple[str, Any]]) -> int:
    from ccomp.runtime.imageio import write_array

    out.mkdir(parents=True, exist_ok=True)
    outs = list(prog.outputs)
    count, scalars = 0, []
    for f, value in done:
        values = {outs[0].name: value} if len(outs) == 1 else value
        stem = Path(f).stem
        suffix = ".png" if Path(f).suffix.lower() == ".png" else ".npy"
        row = {}
        for p in outs:
            v = values[p.name]
            if p.is_buffer and not p.is_sparse:
                path = out / (f"{stem}{suffix}" if len(outs) == 1 else f"{stem}_{p.name}{suffix}")
                write_array(str(path), v, f"output '{p.name}'", p.type.get_num_dims())
                count += 1
            elif not p.is_sparse:
                row[p.name] = np.asarray(v).item()
        if row:
            scalars.append({"@file": f, **row})
    if scalars:
        (out / "scalars.jsonl").write_text("".join(json.dumps(r) + "\n" for r in scalars))
        count += 1
    return count
