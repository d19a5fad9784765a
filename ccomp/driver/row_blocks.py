"""``ccomp.row_blocks``: a program over a large sparse matrix with the matrix split into
row blocks, one per worker (:mod:`ccomp.runtime.scaleout.row_blocks`).

    with ccomp.row_blocks(ccomp.compile_file("examples/spmv.cn"), "A", matrix, blocks=2) as spmv:
        y = spmv(v=x)                 # equals prog(A=matrix, v=x)
"""

from __future__ import annotations

from typing import Any

from ccomp.diagnostics import CompileError
from ccomp.driver.batch_map import _program, archive_of
from ccomp.runtime.scaleout.row_blocks import RowBlocks


def row_blocks(prog: Any, name: str, matrix: Any, blocks: int = 2, runtime: str = "ray", *,
               target: str = "llvm", address: str | None = None) -> RowBlocks:
    """Split ``matrix`` (scipy.sparse) into ``blocks`` row blocks bound to input ``name``
    of ``prog`` (a Program, a ``.cn`` path or a build folder), one worker each (Ray
    actors, or in this process with ``runtime="local"``)."""
    from ccomp.api import load

    program = _program(prog, target)
    port = next((p for p in program.inputs if p.name == name), None)
    if port is None or not port.is_sparse:
        sparse = [p.name for p in program.inputs if p.is_sparse]
        raise CompileError(f"'{program.name}' has no sparse input '{name}' (its sparse inputs: "
                           f"{', '.join(sparse) or 'none'})")
    if runtime not in ("local", "ray"):
        raise CompileError(f"unknown runtime '{runtime}'; choose local or ray")
    if runtime == "ray":
        from ccomp.runtime.scaleout.ray_env import ensure
        ensure(address)
    return RowBlocks(archive_of(program), load, name, matrix, blocks, runtime)
