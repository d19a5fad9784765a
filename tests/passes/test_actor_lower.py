"""actor-lower: every handler becomes one kernel plus a host function; stateful
handlers walk the batch in order in one point, stateless ones get one point per message;
the host function itself (the Program path the GPU targets take) gives what the direct
launch on llvm gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from xdsl.dialects import func, scf

from ccomp.diagnostics import Source
from ccomp.dialects import actor, kern
from ccomp.dialects.contracts import verify_contracts
from ccomp.driver.actors import compile_actor_program, lower_actor_module
from ccomp.runtime.actors.spec import Batch

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def lowered(name: str):
    return lower_actor_module(Source((EXAMPLES / name).read_text(), name))


def test_handlers_become_kernels_and_host_functions():
    module = lowered("stats.cn")
    module.verify()
    verify_contracts(module)
    ops = list(module.body.block.ops)
    (h,) = [h for a in ops if isinstance(a, actor.ActorOp) for h in a.handlers]
    assert not h.body.blocks and h.host.root_reference.data == "summarise__Samples"
    hosts = {f.sym_name.data: f for f in ops if isinstance(f, func.FuncOp)}
    kernels = {k.kernel_name: k for k in ops if isinstance(k, kern.KernelOp)}
    assert set(hosts) == {"summarise__Samples"} and set(kernels) == {"summarise__Samples_0"}
    assert not [op for op in module.walk() if op.dialect_name() == "sparse"]
    # stats writes its state: one point walks the messages in order
    (launch,) = [op for op in hosts["summarise__Samples"].walk() if isinstance(op, kern.LaunchOp)]
    assert launch.grid[0].owner.value.value.data == 1
    assert any(isinstance(op, scf.ForOp) and op.iter_args for op in kernels["summarise__Samples_0"].walk())


def test_stateless_handlers_run_one_point_per_message():
    module = lowered("classify_stream.cn")
    kernels = [k for k in module.body.block.ops if isinstance(k, kern.KernelOp)]
    assert len(kernels) == 3
    for k in kernels:
        assert any(isinstance(op, kern.IndexOp) for op in k.walk())
        assert not any(isinstance(op, scf.ForOp) for op in k.walk())


def test_host_function_matches_direct_launch():
    """The host function (what opencl/glsl run, through the Program) and the direct
    launch on llvm give the same replies, state and status."""
    prog = compile_actor_program(EXAMPLES / "stats.cn", "llvm")
    runner = prog.actors["summarise"].handlers["Samples"].run
    rng = np.random.default_rng(5)
    off = np.concatenate([[0], np.cumsum(rng.integers(0, 5, 20))]).astype(np.int64)
    values = rng.standard_normal(int(off[-1])).astype(np.float32)
    batch = Batch("Samples", 20, {"data": values}, {"data": off})
    direct_state = {"seen": np.array(3, np.int64)}
    direct = runner(direct_state, batch)
    args, _ = runner.bind({"seen": np.array(3, np.int64)}, batch)
    status, seen, total, count, mean = runner.program(*args)
    assert not status.any() and int(seen[0]) == int(direct_state["seen"])
    np.testing.assert_array_equal(total, direct.replies.columns["total"])
    np.testing.assert_array_equal(count, direct.replies.columns["count"])
    np.testing.assert_array_equal(mean, direct.replies.columns["mean"])
