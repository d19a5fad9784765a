"""llvmpipe's loop limiter, and the guard that turns its cut into an error.

Measured (``tests/backends/test_glsl_loop_limit.py`` repeats it) on ``llvmpipe (LLVM
15.0.6, 256 bits)``, OpenGL ``4.5 (Core Profile) Mesa 22.3.6``, through moderngl's EGL
context: gallivm gives every shader invocation ONE budget of 65535 loop iterations
(``LP_MAX_TGSI_LOOP_ITERATIONS``) shared by all its loops, and when it is spent every
loop of the invocation just exits — no error, and the code after the loops still runs
and stores what it has:

* one ``for`` to 100,000 ends at 65535 (``while`` too; a ``do``-``while`` at 65536);
* the budget is per invocation, in total: two loops of 40,000 in one invocation ran
  40,000 and 25,534; a 1000x100 nest ran 643 outer and 64,251 inner iterations
  (each loop also spends one unit when it exits, so the cut comes a little early);
* constant bounds do not help: ``for (i < 100000u)`` and an 8x10000 constant nest
  are cut the same way (nothing that large is unrolled);
* per invocation, not per workgroup: with 8 or 64 invocations a group each got its
  own 65535 (one SIMD lane each).

Real GPU drivers have no such limit, so the limit is a device capability
(:func:`max_loop_iterations`, ``None`` off llvmpipe). Where it is set, the glsl
emitter counts, in every shader, each loop entry and each iteration in a local
``ccomp_loops`` (an upper bound of what the limiter counts), and an invocation whose
count reached the budget records its kernel in a small storage buffer bound at
:data:`OVERRUN_SLOT`. The device reads that word before any result leaves it
(downloads, reduction partials) and raises a located error naming the limit
(:func:`overrun_error`), so a cut loop is never a silently wrong answer. Kernels whose
work per invocation can be bounded are kept under the budget by construction instead
(reductions: 16 elements per invocation; actor batches: ``driver/actor_llvmpipe.py``).
"""

from __future__ import annotations

import zlib

from xdsl.dialects.builtin import ModuleOp

from ccomp.diagnostics import CompileError, error_at_location

#: gallivm's per-invocation budget of loop iterations (Mesa 22.3 llvmpipe).
LLVMPIPE_LOOP_ITERATIONS = 65535
#: The count at which an invocation is reported: the budget less a margin for the
#: reduction tree's own small loops (not all of which the emitter counts exactly).
GUARD_MARGIN = 64
#: The storage-buffer binding of the overrun word; the guarded kernels never bind
#: their own buffers this high (graph kernels use 8, the driver offers 80).
OVERRUN_SLOT = 63

_SOFTWARE = ("llvmpipe", "softpipe")


def max_loop_iterations(renderer: str) -> int | None:
    """The loop budget of one invocation on the GL renderer ``renderer`` (its
    ``GL_RENDERER``), or ``None`` where there is none."""
    low = renderer.lower()
    return LLVMPIPE_LOOP_ITERATIONS if any(name in low for name in _SOFTWARE) else None


def guard_threshold(budget: int) -> int:
    """The per-invocation count from which a shader reports an overrun."""
    return max(budget - GUARD_MARGIN, 1)


def kernel_tag(name: str) -> int:
    """A non-zero 31-bit tag of a kernel, written by its shader on an overrun."""
    return (zlib.crc32(name.encode()) & 0x7FFFFFFF) or 1


def overrun_error(tag: int, module: ModuleOp | None, renderer: str, budget: int) -> CompileError:
    """The located error for the kernel tagged ``tag`` (of ``module``)."""
    from ccomp.dialects.kern import KernelOp

    kernel = next((op for op in (module.walk() if module is not None else ())
                   if isinstance(op, KernelOp) and kernel_tag(op.kernel_name) == tag), None)
    what = f"kernel @{kernel.kernel_name}" if kernel is not None else "a kernel"
    message = (f"glsl: {what} needs more than {budget} loop iterations in one shader invocation, and "
               f"{renderer} stops an invocation's loops there without an error (the result would be "
               f"wrong); use -t llvm or -t opencl")
    return error_at_location(kernel.location if kernel is not None else None, message)
