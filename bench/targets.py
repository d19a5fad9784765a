"""Tonemap and edges on every ccomp target (llvm, opencl, glsl), against the same kernels
written by hand for each API (bench/handwritten.py) and against Numba ``parallel=True``.

    python bench/targets.py [--size 2048] [--repeat 5] [--programs tonemap,edges]
                            [--targets llvm,opencl,glsl]
    python bench/targets.py --device-report

Per contender, in milliseconds: compile — for ccomp ``front`` (frontend, passes and
code generation) and ``backend`` (device/context creation and the driver build), for
the hand-written kernels context plus driver build, for Numba its JIT — measured cold
(``cache=False``; PoCL and Mesa shader caches pointed at a fresh temporary folder);
the first call (drivers finish compiling lazily there); upload, run and download of a
call; end to end; and kernel only (the dispatches plus a finish on buffers uploaded
beforehand), which is the fair measure of generated code against hand-written code.
Every contender's output is checked against NumPy before anything is timed.

The machine is shared and small, so every time is the best of N with the median in
brackets: the gap between them is the noise of that row.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import timed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("llvm", "opencl", "glsl")
PHASES = ("upload", "run", "download")


@dataclass
class Contender:
    """One way of running a program, with what the tables need from it."""

    name: str
    api: str  # llvm, opencl, glsl or numba
    call: Callable[[], object]  # end to end; returns the outputs
    kernel: Callable[[], object]  # dispatches + finish on already-uploaded inputs
    backend_s: float
    front_s: float | None = None
    phases: Callable[[], dict] = dict  # upload/run/download seconds of the last call
    close: Callable[[], None] = lambda: None  # moderngl frees nothing on garbage collection
    stats: dict = field(default_factory=dict)


def fresh_driver_caches() -> None:
    """Point PoCL's and Mesa's kernel caches at a new folder so driver builds are cold
    (must run before either driver loads); the folder goes at exit."""
    folder = tempfile.mkdtemp(prefix="ccomp-bench-")
    os.environ["POCL_CACHE_DIR"] = os.path.join(folder, "pocl")
    os.environ["MESA_SHADER_CACHE_DIR"] = os.path.join(folder, "mesa")
    os.makedirs(os.environ["POCL_CACHE_DIR"])
    atexit.register(shutil.rmtree, folder, True)


def device_report() -> list[str]:
    from ccomp.runtime.devices import gl, opencl
    import numba

    lines = [f"glsl:   {gl.probe()[1]}", f"opencl: {opencl.probe()[1]}"]
    lines.append(f"cpu:    {os.cpu_count()} cores, numba {numba.__version__} with {numba.get_num_threads()} threads, "
                 f"load average {os.getloadavg()[0]:.2f}")
    return lines


def warm_up() -> None:
    """Pay the once-per-process costs (imports, grammar, LLVM, driver loading) before any
    compile is timed, so the compile columns hold only per-program work."""
    import ccomp

    # vec4, a stencil and clamp, so the libraries tonemap's kernel uses are loaded too
    warm = "graph warm(a: image<vec4>) -> image<vec4> {\n    return clamp(blur(a, 1) * 2.0, 0.0, 1.0)\n}\n"
    one = np.ones((4, 4, 4), np.float32)
    for target in TARGETS:  # loads PoCL's and llvmpipe's compilers, which build lazily
        prog = ccomp.compile(warm, target, cache=False)
        in_context(getattr(prog.device, "ctx", None), lambda: prog(a=one))()
    from handwritten import CLHand
    CLHand("tonemap", local=(32, 8))  # PoCL's first real build in a process ran 3x slower


def ccomp_kernel(prog, inputs: dict) -> Callable[[], None]:
    """Kernel-only time of a ccomp Program: its host schedule run on inputs uploaded once,
    then a finish. Program has no public "run without transfers" entry point, so this
    reaches into its HostRunner the way HostRunner.run sets up its registers."""
    from xdsl.dialects.builtin import MemRefType

    from ccomp.runtime.devices.base import scalar_dtype
    from ccomp.runtime.pool import Buffer
    from ccomp.runtime.signature import bind_inputs

    runner, device = prog._runner, prog.device
    base: list = [None] * len(runner.slots)
    bound = bind_inputs(prog.inputs, (), inputs, prog.source, prog.name)
    for arg, slot, value in zip(runner.fn.body.block.args, runner.args, bound):
        if isinstance(arg.type, MemRefType):
            dims = tuple(value.shape[: arg.type.get_num_dims()])
            base[slot] = Buffer(device.upload(arg.type, value), arg.type, dims, None)
        else:
            base[slot] = np.asarray(value, dtype=scalar_dtype(arg.type))
    queue = getattr(device, "queue", None)  # opencl: an asynchronous in-order queue
    finish = queue.finish if queue is not None else getattr(getattr(device, "ctx", None), "finish", lambda: None)

    def run() -> None:
        regs = list(base)
        for step in runner.steps:
            step(regs)
        finish()
    return run


def setup(program: str, n: int):
    """Inputs, a checker against NumPy, and a maker of the Numba contender for ``program``."""
    from edges import make_numba_edges, numpy_edges
    from tonemap import make_numba_tonemap, numpy_tonemap

    rng = np.random.default_rng(0)
    if program == "tonemap":
        inputs = {"src": rng.random((n, n, 4), dtype=np.float32), "gain": np.float32(1.5)}
        ref, lum = numpy_tonemap(inputs["src"], inputs["gain"])
        # a luminance within rounding of the 0.5 threshold may land on either side
        clear = np.abs(lum - 0.5) > 1e-5

        def error(out) -> float:
            return float(np.abs(out - ref)[clear].max())
        kernel, out = make_numba_tonemap(), np.empty_like(inputs["src"])

        def numba_call():
            kernel(inputs["src"], inputs["gain"], out)
            return out
    else:
        inputs = {"src": rng.random((n, n), dtype=np.float32)}
        ref_mag, ref_mean = numpy_edges(inputs["src"])

        def error(out) -> float:
            mag, mean = out
            return max(float(np.abs(mag - ref_mag).max()), abs(float(mean) - ref_mean))
        edges = make_numba_edges()
        bufs = (np.empty_like(inputs["src"]), np.empty_like(inputs["src"]), np.empty(n, np.float64))

        def numba_call():
            return edges(inputs["src"], *bufs)

    def make_numba() -> Contender:
        _, jit_s = timed(numba_call)
        return Contender("numba parallel", "numba", numba_call, numba_call, jit_s)
    return inputs, error, make_numba


def contenders(program: str, inputs: dict, targets: list[str]) -> list[Contender]:
    """ccomp on each target, and the hand-written kernels for the APIs that have them."""
    import ccomp
    from handwritten import RUNNERS

    out = []
    for target in targets:
        prog = ccomp.compile(ROOT / "examples" / f"{program}.cn", target=target, cache=False)
        ctx = getattr(prog.device, "ctx", None)
        out.append(Contender(f"ccomp {target}", target, in_context(ctx, lambda p=prog: p(**inputs)),
                             in_context(ctx, ccomp_kernel(prog, inputs)), prog.backend_seconds,
                             prog.compile_seconds, lambda p=prog: p.timings, lambda p=prog, c=ctx: release(p.pool, c)))
        if target in RUNNERS:
            hand = RUNNERS[target](program)
            out.append(Contender(f"hand {target}", target, in_context(hand.ctx, lambda h=hand: h(**inputs)),
                                 in_context(hand.ctx, hand.kernel), hand.compile_seconds, None,
                                 lambda h=hand: h.timings, lambda h=hand: release(None, h.ctx)))
    return out


def in_context(ctx, fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` with ``ctx`` made current around it when ``ctx`` is a moderngl context.
    ccomp's GLDevice never makes its context current, so once a second standalone
    context exists (another glsl Program, or the hand-written runner) its dispatches go
    to the wrong context and return garbage; this works around that for the bench."""
    if not hasattr(ctx, "compute_shader"):
        return fn

    def run():
        with ctx:
            return fn()
    return run


def release(pool, ctx) -> None:
    """Free a contender's buffers and GL context: moderngl frees nothing on its own."""
    if pool is not None:
        in_context(ctx, pool.clear)()
    if hasattr(ctx, "compute_shader"):
        ctx.release()


def measure(rows: list[Contender], error: Callable, repeat: int) -> None:
    """First calls and the check against NumPy, then ``repeat`` rounds that time one
    end-to-end call and one kernel-only run of every contender in turn: interleaved, a
    burst of load from other users of the machine hits all contenders alike."""
    for c in rows:
        outputs, c.stats["first"] = timed(c.call)
        err = error(outputs)
        if not err <= 1e-5:
            raise SystemExit(f"{c.name} disagrees with NumPy: max abs error {err}")
        c.kernel()  # warm the kernel-only path too
        c.stats.update(e2e=[], kernel=[], phases={})
    for _ in range(repeat):
        for c in rows:
            c.stats["e2e"].append(timed(c.call)[1])
            for k, v in c.phases().items():
                c.stats["phases"][k] = min(v, c.stats["phases"].get(k, np.inf))
            c.stats["kernel"].append(timed(c.kernel)[1])
    for c in rows:
        for key in ("e2e", "kernel"):
            runs = sorted(c.stats[key])
            c.stats[key] = (runs[0], runs[len(runs) // 2])


def ms(x: float | None, width: int = 8) -> str:
    return f"{'-':>{width}}" if x is None else f"{x * 1e3:{width}.1f}"


def table(title: str, rows: list[Contender], mp: float) -> None:
    print(f"\n{title}")
    print(f"{'contender':15} {'front':>8} {'backend':>8} {'1st call':>8} {'upload':>8} {'run':>8} "
          f"{'download':>8} {'end-to-end (median)':>20} {'kernel (median)':>18} {'MP/s':>7}")
    for c in rows:
        s = c.stats
        ph = [s["phases"].get(k) for k in PHASES]
        (e, em), (k, km) = s["e2e"], s["kernel"]
        print(f"{c.name:15} {ms(c.front_s)} {ms(c.backend_s)} {ms(s['first'])} {ms(ph[0])} {ms(ph[1])} "
              f"{ms(ph[2])} {ms(e, 9)} ({ms(em, 8).strip():>8}) {ms(k, 8)} ({ms(km, 7).strip():>7}) {mp / k:7.1f}")


def ratios(rows: list[Contender]) -> list[str]:
    """ccomp over hand-written per API, and ccomp over Numba: >1 means ccomp is slower."""
    by = {c.name: c.stats for c in rows}
    nb = min(by["numba parallel"]["kernel"][0], by["numba parallel"]["e2e"][0])  # the same call, timed twice
    lines = []
    for c in rows:
        if not c.name.startswith("ccomp"):
            continue
        k, e = c.stats["kernel"][0], c.stats["e2e"][0]
        hand = by.get(f"hand {c.api}")
        vs_hand = (f"{k / hand['kernel'][0]:6.2f}x {e / hand['e2e'][0]:6.2f}x" if hand else f"{'-':>7} {'-':>7}")
        lines.append(f"  {c.api:7} {vs_hand}   {k / nb:6.2f}x {e / nb:6.2f}x")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (best and median reported)")
    ap.add_argument("--programs", default="tonemap,edges")
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--device-report", action="store_true", help="print the OpenGL and OpenCL devices and exit")
    args = ap.parse_args()
    fresh_driver_caches()
    if args.device_report:
        print("\n".join(device_report()))
        return
    warm_up()
    n, mp = args.size, args.size * args.size / 1e6
    print("\n".join(device_report()))
    summary = []
    for program in args.programs.split(","):
        inputs, error, make_numba = setup(program, n)
        # drivers first: a PoCL build right after Numba's first parallel JIT ran 3-4x slower here
        rows = contenders(program, inputs, args.targets.split(","))
        rows.insert(0, make_numba())
        measure(rows, error, args.repeat)
        kind = "RGBA f32" if program == "tonemap" else "f32"
        table(f"{program} {n}x{n} {kind} ({mp:.1f} MP), ms, best of {args.repeat} (median in brackets), "
              f"load average {os.getloadavg()[0]:.2f}", rows, mp)
        summary += [f"{program}:"] + ratios(rows)
        for c in rows:
            c.close()
        del rows, inputs
        gc.collect()
    print("\nratios, time ccomp / time other (>1: ccomp slower)")
    print(f"  {'api':7} {'ccomp/hand':>15}   {'ccomp/numba':>15}\n  {'':7} {'kernel':>7} {'e2e':>7}   "
          f"{'kernel':>7} {'e2e':>7}")
    print("\n".join(summary))
    print("\nnotes: front = ccomp frontend+passes+codegen; backend = device+driver build (Numba: its JIT, first "
          "call included).\nccomp's opencl 'run' only enqueues (its download waits for the kernel); the "
          "hand-written 'run' includes the finish.\nccomp/numba 'kernel' compares ccomp's kernel-only time with "
          "a whole Numba call (which has no transfers).")


if __name__ == "__main__":
    main()
