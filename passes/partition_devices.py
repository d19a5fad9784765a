"""``partition-devices``: place each kernel on the target that minimises its estimated
time, and record the placement in the host schedule.

Run last on the ``kern`` level (``-t auto``). Each ``kern.launch`` gets

* ``device = "opencl"`` — where it runs (every launch of a kernel goes to one target);
* ``estimate = {llvm = 1.2e-05 : f64, ...}`` — seconds per launch on each candidate;
* ``migrate = [0, 2]`` and ``transfer_bytes = N`` — the arguments whose contents were
  last written on another device (or are inputs in host memory) and must be copied
  to this one first, and the bytes that moves;
* on a split launch, ``part = [first arg, extent arg]`` (``lowering/partition_split.py``).

**The estimate** (``dialects/cost_model.py``): a launch costs the profile's
``launch + max(flops / rate, bytes / bandwidth)`` with FLOPs and bytes from
``dialects/kern_cost.py``, the estimator the profiler reports with; reading a
buffer last written elsewhere adds its migration (out of one device, into the
other). Placement is greedy in schedule order, tracking where each buffer's contents
are; a loop body is placed twice, the second time with its carried buffers where the
first pass left them (the steady state of a repeat zone). Extents that are only known
at run time count as ``points`` points (option); a buffer of unknown size as large as
the launch that binds it.

Candidates are the profiled targets among ``targets``; a kernel only the llvm
pipeline makes (``temporal-block``'s ``_tb`` bands) or with 64-bit types, or more than
8 buffers for glsl, stays where it can run. A splittable kernel (``splittable``) is cut
between its two fastest targets in proportion to their speed when that is estimated
at least ``SPLIT_GAIN`` faster than the best single target, migrations included, and
the two do not both compute on the host's cores (``shares_host``: llvm, PoCL's CPU
device, llvmpipe — splitting the same cores between two drivers gains nothing).

Without profiles (``profiles=""``) every launch is placed on ``default`` with no
estimate: ``-t auto`` then means llvm, as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func, scf
from xdsl.dialects.builtin import (ArrayAttr, DictionaryAttr, Float64Type, FloatAttr, IntegerAttr, IntegerType,
                                   MemRefType, ModuleOp, StringAttr, VectorType, i64)
from xdsl.ir import Block, SSAValue
from xdsl.passes import ModulePass

from ccomp.diagnostics import PassError
from ccomp.dialects import kern
from ccomp.dialects.cost_model import HOST_TARGET, DeviceProfile, ProfileFormatError, migration_seconds, read_profiles
from ccomp.dialects.kern_cost import LOOP_TRIPS, KernelCost, kernel_cost
from ccomp.passes.lowering.partition_split import SHARE_UNITS, part_kernel, split_launch, splittable

SPLIT_GAIN = 0.15  # a split must be estimated this much faster than the best single target
GLSL_BUFFERS = 8  # storage blocks OpenGL guarantees per compute shader
_LLVM_ONLY = re.compile(r"_tb\d+$")


@dataclass
class _Choice:
    device: str
    estimates: dict[str, float]
    migrate: list[int]
    moved: float
    moves: dict[str, tuple[list[int], float, float]]  # per candidate: (migrated args, bytes, kernel seconds)


def _constant(v: SSAValue) -> int | None:
    owner = v.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    return None


def _wide(t) -> bool:
    t = t.element_type if isinstance(t, (MemRefType, VectorType)) else t
    t = t.element_type if isinstance(t, VectorType) else t
    return isinstance(t, Float64Type) or (isinstance(t, IntegerType) and t.width.data == 64)


@dataclass(frozen=True)
class PartitionDevicesPass(ModulePass):
    """Options: ``profiles`` (a device-profile JSON file), ``targets`` (candidates,
    comma-separated), ``points`` (assumed points of a run-time extent), ``split``
    (0: never split),
    ``default`` (the target without profiles)."""

    name = "partition-devices"

    profiles: str = ""
    targets: str = "llvm,opencl,glsl"
    points: int = 1 << 20
    split: int = 1
    default: str = HOST_TARGET

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        kernels = {k.kernel_name: k for k in op.walk() if isinstance(k, kern.KernelOp)}
        profiles = self._profiles(op)
        if not profiles:
            for launch in [o for o in op.walk() if isinstance(o, kern.LaunchOp)]:
                launch.attributes["device"] = StringAttr(self.default)
            return
        placer = _Placer(self, profiles, kernels)
        for fn in [f for f in op.body.block.ops if isinstance(f, func.FuncOp)]:
            placer.place_block(fn.body.block, {a: {HOST_TARGET} for a in fn.body.block.args})
        placer.finish()

    def _profiles(self, op: ModuleOp) -> dict[str, DeviceProfile]:
        if not self.profiles:
            return {}
        try:
            found = read_profiles(self.profiles)
        except ProfileFormatError as exc:
            raise PassError(op, f"partition-devices: {exc}") from None
        wanted = [t.strip() for t in self.targets.split(",") if t.strip()]
        return {t: found[t] for t in wanted if t in found}


class _Placer:
    def __init__(self, options: PartitionDevicesPass, profiles: dict[str, DeviceProfile],
                 kernels: dict[str, kern.KernelOp]):
        self.options, self.profiles, self.kernels = options, profiles, kernels
        self.costs: dict[str, KernelCost] = {}
        self.choices: dict[kern.LaunchOp, _Choice] = {}
        self.placed: dict[str, str] = {}  # kernel -> device, the last decision wins
        self.splits: dict[kern.LaunchOp, tuple[int, tuple[str, str]]] = {}

    # -- walking the schedule -----------------------------------------------------------
    def place_block(self, block: Block, where: dict[SSAValue, set[str]]) -> None:
        for op in block.ops:
            if isinstance(op, kern.LaunchOp):
                self.place_launch(op, where)
            elif isinstance(op, scf.ForOp):
                body = op.body.block
                for arg, init in zip(body.args[1:], op.iter_args):
                    where[arg] = set(where.get(init, {HOST_TARGET}))
                self.place_block(body, where)  # the first iteration, then the steady state
                for arg, out in zip(body.args[1:], body.last_op.operands):
                    where[arg] = set(where.get(out, where.get(arg, {HOST_TARGET})))
                self.place_block(body, where)
                for res, out in zip(op.results, body.last_op.operands):
                    where[res] = set(where.get(out, {HOST_TARGET}))
            else:
                for region in op.regions:
                    for inner in region.blocks:
                        self.place_block(inner, where)
                for res in op.results:
                    if isinstance(res.type, MemRefType):
                        where.setdefault(res, set())  # fresh: no contents anywhere yet

    def _points(self, op: kern.LaunchOp, cost: KernelCost) -> float:
        """The launch's points: its constant grid, else ``points`` spread over what a
        point covers (a kernel nesting loops ``d`` deep covers ``LOOP_TRIPS ** d``
        elements a point, as a sparse row or a temporally blocked band does)."""
        sizes = [_constant(g) for g in op.grid]
        if all(s is not None for s in sizes):
            n = 1
            for s in sizes:
                n *= max(0, s)  # type: ignore[operator]
            return float(n)
        return max(1.0, self.options.points / LOOP_TRIPS ** min(cost.depth, 4))

    def _bytes(self, v: SSAValue, points: float) -> float:
        t = v.type
        assert isinstance(t, MemRefType)
        shape = t.get_shape()
        element = t.element_type
        lanes = element.get_shape()[0] if isinstance(element, VectorType) else 1
        scalar = element.element_type if isinstance(element, VectorType) else element
        size = (getattr(getattr(scalar, "width", None), "data", None) or getattr(scalar, "bitwidth", 32)) // 8 * lanes
        n = 1.0
        for s in shape:
            n *= s if s >= 0 else 0
        return size * (n if all(s >= 0 for s in shape) else points)

    def candidates(self, kernel: kern.KernelOp) -> list[str]:
        out = []
        buffers = sum(isinstance(a.type, MemRefType) for a in kernel.body.block.args)
        wide = any(_wide(a.type) for a in kernel.body.block.args)
        for target in self.profiles:
            if target != HOST_TARGET and (_LLVM_ONLY.search(kernel.kernel_name) or wide):
                continue
            if target == "glsl" and buffers > GLSL_BUFFERS:
                continue
            out.append(target)
        return out or [HOST_TARGET]

    def place_launch(self, op: kern.LaunchOp, where: dict[SSAValue, set[str]]) -> None:
        kernel = self.kernels[op.kernel_name]
        cost = self.costs.setdefault(op.kernel_name, kernel_cost(kernel))
        points = self._points(op, cost)
        span = points * LOOP_TRIPS ** min(cost.depth, 4)  # elements a launch covers: buffers of unknown size
        reads, writes = _uses(kernel)
        estimates: dict[str, float] = {}
        moves: dict[str, tuple[list[int], float, float]] = {}
        for target in self.candidates(kernel):
            profile = self.profiles.get(target) or self.profiles[next(iter(self.profiles))]
            seconds = profile.kernel_seconds(cost.flops * points, cost.bytes * points, cost.gathers)
            migrate, moved, extra = [], 0.0, 0.0
            for i in sorted(reads):
                v = op.args[i]
                held = where.get(v, {HOST_TARGET})
                if held and target not in held:
                    source = HOST_TARGET if HOST_TARGET in held else sorted(held)[0]
                    nbytes = self._bytes(v, span)
                    extra += migration_seconds(nbytes, self.profiles.get(source, profile), profile)
                    migrate.append(i)
                    moved += nbytes
            estimates[target] = seconds + extra
            moves[target] = (migrate, moved, seconds)
        best = min(estimates, key=lambda t: estimates[t])
        self.choices[op] = _Choice(best, estimates, *moves[best][:2], moves)
        self.placed[op.kernel_name] = best
        split = self._consider_split(op, kernel, estimates, moves, span, writes)
        readers = set(self.splits[op][1]) if split else {best}
        for i in reads:
            where.setdefault(op.args[i], set()).update(readers)
        for i in writes:  # a split's bands are merged in host memory
            where[op.args[i]] = {HOST_TARGET} if split else {best}

    def _consider_split(self, op: kern.LaunchOp, kernel: kern.KernelOp, estimates: dict[str, float],
                        moves: dict[str, tuple[list[int], float, float]], points: float, writes: set[int]) -> bool:
        if not self.options.split or len(estimates) < 2 or not splittable(kernel):
            return False
        a, b = sorted(estimates, key=lambda t: estimates[t])[:2]
        pa, pb = self.profiles[a], self.profiles[b]
        if pa.shares_host and pb.shares_host:  # the same cores twice: nothing to gain
            return False
        ta, tb = moves[a][2] - pa.launch_us * 1e-6, moves[b][2] - pb.launch_us * 1e-6
        if ta <= 0 or tb <= 0:
            return False
        share = round(SHARE_UNITS * tb / (ta + tb))  # rows to a, in proportion to speed
        if not 0 < share < SHARE_UNITS:
            return False
        f = share / SHARE_UNITS
        written = sum(self._bytes(op.args[i], points) for i in writes)
        merge = [migration_seconds(written * (1 - g), p, self.profiles.get(HOST_TARGET, p))
                 for g, p in ((f, pa), (1 - f, pb))]
        time = max(pa.launch_us * 1e-6 + f * ta + estimates[a] - moves[a][2] + merge[0],
                   pb.launch_us * 1e-6 + (1 - f) * tb + estimates[b] - moves[b][2] + merge[1])
        if time >= (1 - SPLIT_GAIN) * estimates[a]:
            return False
        self.splits[op] = (share, (a, b))
        return True

    # -- writing the placement ----------------------------------------------------------
    def finish(self) -> None:
        parts: dict[tuple[str, str], kern.KernelOp] = {}
        for op, choice in self.choices.items():
            if op in self.splits:
                continue
            op.attributes["device"] = StringAttr(self.placed[op.kernel_name])
            op.attributes["estimate"] = DictionaryAttr({t: FloatAttr(s, 64) for t, s in choice.estimates.items()})
            op.attributes["migrate"] = ArrayAttr([IntegerAttr(i, i64) for i in choice.migrate])
            op.attributes["transfer_bytes"] = IntegerAttr(int(choice.moved), i64)
        for op, (share, devices) in self.splits.items():
            kernel = self.kernels[op.kernel_name]
            pair = tuple(parts[(op.kernel_name, d)] if (op.kernel_name, d) in parts
                         else parts.setdefault((op.kernel_name, d), part_kernel(kernel, d)) for d in devices)
            estimate = DictionaryAttr({t: FloatAttr(s, 64) for t, s in self.choices[op].estimates.items()})
            for launch, device in zip(split_launch(op, pair, share, devices), devices):  # type: ignore[arg-type]
                migrate, moved, _ = self.choices[op].moves[device]
                launch.attributes["estimate"] = estimate
                launch.attributes["migrate"] = ArrayAttr([IntegerAttr(i, i64) for i in migrate])
                launch.attributes["transfer_bytes"] = IntegerAttr(int(moved), i64)
        for name in {name for name, _ in parts}:
            kernel = self.kernels[name]
            module = kernel.parent_op()
            if not any(isinstance(o, kern.LaunchOp) and o.kernel_name == name for o in module.walk()):
                kernel.detach()
                kernel.erase()


def _uses(kernel: kern.KernelOp) -> tuple[set[int], set[int]]:
    """Binding indices a kernel loads from and stores to."""
    from xdsl.dialects import memref

    args = list(kernel.body.block.args)
    reads = {args.index(o.memref) for o in kernel.walk() if isinstance(o, memref.LoadOp) and o.memref in args}
    writes = {args.index(o.memref) for o in kernel.walk() if isinstance(o, memref.StoreOp) and o.memref in args}
    writes |= {args.index(o.buffer) for o in kernel.walk() if isinstance(o, kern.AtomicAddOp) and o.buffer in args}
    return reads, writes


__all__ = ["PartitionDevicesPass"]
