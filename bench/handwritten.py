"""Tonemap and edges written by hand for OpenCL (pyopencl) and GLSL 4.30 (moderngl),
the yardstick bench/targets.py holds ccomp's generated kernels against.

They are the kernels a programmer who knows the API writes for these two programs:
one invocation per pixel, clamped neighbour indices computed once per row and column,
constants folded, the 5x5 blur summed in the .cn program's order, and the edges mean
fused into the magnitude kernel (each invocation sums a column strip of rows, one
tree reduction per workgroup, partials summed on the host in float64). Workgroup
sizes are explicit and the same as ccomp's (64x4 for OpenCL, 16x16 for GLSL; a sweep
on PoCL and llvmpipe found those among the fastest), so a gap in kernel time is the
code, not the launch shape. Buffers move the way ccomp's devices move them: a new
input buffer per call (``COPY_HOST_PTR`` / ``ctx.buffer(data)``), outputs allocated
once and read back into a fresh array.

Each runner has the face bench/targets.py needs: ``compile_seconds`` (context plus
driver build, cold), ``__call__(**inputs)`` (end to end, filling ``timings`` with
upload/run/download seconds) and ``kernel()`` (the dispatches on the buffers of the
last call, plus finish: the kernel-only time).
"""

from __future__ import annotations

import time

import numpy as np

ROWS = {"opencl": 8, "glsl": 16}  # rows per invocation in the reduction (as ccomp coarsens)

CL_WG = "#define WG __attribute__((reqd_work_group_size(LX, LY, 1)))\n"
CL_TONEMAP = CL_WG + r"""
__kernel WG void tonemap(__global const float4* restrict src, __global float4* restrict dst,
                         int w, int h, float gain) {
    int x = get_global_id(0), y = get_global_id(1);
    if (x >= w || y >= h) return;
    int xa = max(x - 1, 0), xb = min(x + 1, w - 1);
    int r0 = max(y - 1, 0) * w, r1 = y * w, r2 = min(y + 1, h - 1) * w;
    float4 s = src[r0 + xa] + src[r0 + x] + src[r0 + xb] + src[r1 + xa] + src[r1 + x]
             + src[r1 + xb] + src[r2 + xa] + src[r2 + x] + src[r2 + xb];
    float4 l = clamp(s * (1.0f / 9.0f) * gain + 0.1f, 0.0f, 1.0f);
    float lum = l.x * 0.2126f + l.y * 0.7152f + l.z * 0.0722f;
    dst[r1 + x] = lum < 0.5f ? (float4)(0.05f, 0.05f, 0.2f, 1.0f) : (float4)(1.0f, 0.9f, 0.6f, 1.0f);
}"""
CL_EDGES = CL_WG + r"""
__kernel WG void blur5(__global const float* restrict src, __global float* restrict dst, int w, int h) {
    int x = get_global_id(0), y = get_global_id(1);
    if (x >= w || y >= h) return;
    int c0 = max(x - 2, 0), c1 = max(x - 1, 0), c3 = min(x + 1, w - 1), c4 = min(x + 2, w - 1);
    float s = 0.0f;
    for (int dy = -2; dy <= 2; dy++) {
        __global const float* r = src + clamp(y + dy, 0, h - 1) * w;
        s = s + r[c0]; s = s + r[c1]; s = s + r[x]; s = s + r[c3]; s = s + r[c4];
    }
    dst[y * w + x] = s * 0.04f;
}
__kernel WG void magsum(__global const float* restrict g, __global float* restrict mag,
                        __global float* restrict partials, int w, int h) {
    __local float red[LX * LY];
    int x = get_global_id(0), stride = get_global_size(1);
    int xl = max(x - 1, 0), xr = min(x + 1, w - 1);
    float acc = 0.0f;
    if (x < w)
        for (int y = get_global_id(1); y < h; y += stride) {
            float gx = g[y * w + xr] - g[y * w + xl];
            float gy = g[min(y + 1, h - 1) * w + x] - g[max(y - 1, 0) * w + x];
            float m = sqrt(gx * gx + gy * gy);
            mag[y * w + x] = m;
            acc += m;
        }
    int lid = get_local_id(1) * LX + get_local_id(0);
    red[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = LX * LY / 2; s > 0; s >>= 1) {
        if (lid < s) red[lid] += red[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) partials[get_group_id(1) * get_num_groups(0) + get_group_id(0)] = red[0];
}
"""

GL_HEAD = "layout(local_size_x = LX, local_size_y = LY) in;\nuniform int w; uniform int h;\n"
GL_TONEMAP = GL_HEAD + """uniform float gain;
layout(std430, binding = 0) readonly buffer S { vec4 src[]; };
layout(std430, binding = 1) writeonly buffer D { vec4 dst[]; };
void main() {
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= w || y >= h) return;
    int xa = max(x - 1, 0), xb = min(x + 1, w - 1);
    int r0 = max(y - 1, 0) * w, r1 = y * w, r2 = min(y + 1, h - 1) * w;
    vec4 s = src[r0 + xa] + src[r0 + x] + src[r0 + xb] + src[r1 + xa] + src[r1 + x]
           + src[r1 + xb] + src[r2 + xa] + src[r2 + x] + src[r2 + xb];
    vec4 l = clamp(s * (1.0 / 9.0) * gain + 0.1, 0.0, 1.0);
    float lum = l.x * 0.2126 + l.y * 0.7152 + l.z * 0.0722;
    dst[r1 + x] = lum < 0.5 ? vec4(0.05, 0.05, 0.2, 1.0) : vec4(1.0, 0.9, 0.6, 1.0);
}"""
GL_BLUR5 = GL_HEAD + """layout(std430, binding = 0) readonly buffer S { float src[]; };
layout(std430, binding = 1) writeonly buffer D { float dst[]; };
void main() {
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= w || y >= h) return;
    int c0 = max(x - 2, 0), c1 = max(x - 1, 0), c3 = min(x + 1, w - 1), c4 = min(x + 2, w - 1);
    float s = 0.0;
    for (int dy = -2; dy <= 2; dy++) {
        int r = clamp(y + dy, 0, h - 1) * w;
        s = s + src[r + c0]; s = s + src[r + c1]; s = s + src[r + x]; s = s + src[r + c3]; s = s + src[r + c4];
    }
    dst[y * w + x] = s * 0.04;
}"""
GL_MAGSUM = GL_HEAD + """layout(std430, binding = 0) readonly buffer G { float g[]; };
layout(std430, binding = 1) writeonly buffer M { float mag[]; };
layout(std430, binding = 2) writeonly buffer P { float partials[]; };
shared float red[LX * LY];
void main() {
    int x = int(gl_GlobalInvocationID.x), stride = int(gl_NumWorkGroups.y) * LY;
    int xl = max(x - 1, 0), xr = min(x + 1, w - 1);
    float acc = 0.0;
    if (x < w)
        for (int y = int(gl_GlobalInvocationID.y); y < h; y += stride) {
            float gx = g[y * w + xr] - g[y * w + xl];
            float gy = g[min(y + 1, h - 1) * w + x] - g[max(y - 1, 0) * w + x];
            float m = sqrt(gx * gx + gy * gy);
            mag[y * w + x] = m;
            acc += m;
        }
    int lid = int(gl_LocalInvocationIndex);
    red[lid] = acc;
    memoryBarrierShared(); barrier();
    for (int s = LX * LY / 2; s > 0; s >>= 1) {
        if (lid < s) red[lid] += red[lid + s];
        memoryBarrierShared(); barrier();
    }
    if (lid == 0) partials[gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x] = red[0];
}"""


def _groups(n: int, size: int) -> int:
    return max(1, -(-n // size))


class HandWritten:
    """Shared call logic: upload, kernel (dispatch + finish), download, each timed."""

    api = ""
    local = (1, 1)

    def __init__(self, program: str, local: tuple[int, int] | None = None):
        self.program, self.timings, self.local = program, {}, local or self.local
        self.outs: dict = {}
        start = time.perf_counter()
        self._build()
        self.compile_seconds = time.perf_counter() - start

    def _out(self, name: str, nbytes: int):
        """The output buffer ``name`` of ``nbytes`` (16 at least), kept between calls."""
        size = max(nbytes, 16)
        if name not in self.outs or self.outs[name].size != size:
            self.outs[name] = self._allocate(size)
        return self.outs[name]

    def grids(self, shape: tuple[int, ...]) -> tuple[tuple[int, int], tuple[int, int]]:
        """Workgroup counts of the per-pixel kernels and of the reduction."""
        h, w = shape[:2]
        lx, ly = self.local
        return (_groups(w, lx), _groups(h, ly)), (_groups(w, lx), _groups(_groups(h, ROWS[self.api]), ly))

    def __call__(self, **inputs):
        t0 = time.perf_counter()
        self.upload(inputs)
        t1 = time.perf_counter()
        self.kernel()
        t2 = time.perf_counter()
        out = self.download()
        self.timings = {"upload": t1 - t0, "run": t2 - t1, "download": time.perf_counter() - t2}
        return out


class CLHand(HandWritten):
    """The OpenCL C kernels above on the device ccomp's opencl target picks."""

    api, local = "opencl", (64, 4)

    def _build(self) -> None:
        import pyopencl as cl

        from ccomp.runtime.devices.opencl import _pick_device  # the same device as ccomp's target
        self.cl = cl
        self.ctx = cl.Context([_pick_device()])
        self.queue = cl.CommandQueue(self.ctx)
        text = CL_TONEMAP if self.program == "tonemap" else CL_EDGES  # only what ccomp builds too
        prg = cl.Program(self.ctx, text).build(options=[f"-DLX={self.local[0]}", f"-DLY={self.local[1]}"])
        self.kernels = {k.function_name: k for k in prg.all_kernels()}

    def _allocate(self, size: int):
        return self.cl.Buffer(self.ctx, self.cl.mem_flags.READ_WRITE, size=size)

    def upload(self, inputs) -> None:
        src = np.ascontiguousarray(inputs["src"], dtype=np.float32)
        flags = self.cl.mem_flags.READ_ONLY | self.cl.mem_flags.COPY_HOST_PTR
        self.src, self.shape = self.cl.Buffer(self.ctx, flags, hostbuf=src), src.shape
        self.gain = np.float32(inputs.get("gain", 1.5))
        pix, red = self.grids(src.shape)
        self.dst = self._out("dst", src.nbytes)
        if self.program == "edges":
            self.g = self._out("g", src.nbytes)
            self.partials = np.empty(red[0] * red[1], np.float32)
            self.pbuf = self._out("partials", self.partials.nbytes)

    def _launch(self, name: str, groups: tuple[int, int], *args) -> None:
        k = self.kernels[name]
        k.set_args(*args)
        size = (groups[0] * self.local[0], groups[1] * self.local[1])
        self.cl.enqueue_nd_range_kernel(self.queue, k, size, self.local)

    def kernel(self) -> None:
        h, w = (np.int32(n) for n in self.shape[:2])
        pix, red = self.grids(self.shape)
        if self.program == "tonemap":
            self._launch("tonemap", pix, self.src, self.dst, w, h, self.gain)
            self.queue.finish()
            return
        self._launch("blur5", pix, self.src, self.g, w, h)
        self._launch("magsum", red, self.g, self.dst, self.pbuf, w, h)
        self.cl.enqueue_copy(self.queue, self.partials, self.pbuf)  # blocking: the queue is done
        self.mean = float(self.partials.sum(dtype=np.float64) / (int(w) * int(h)))

    def download(self):
        out = np.empty(self.shape, np.float32)
        self.cl.enqueue_copy(self.queue, out, self.dst)
        return out if self.program == "tonemap" else (out, self.mean)


class GLHand(HandWritten):
    """The GLSL 4.30 compute shaders above in a moderngl standalone EGL context, SSBOs."""

    api, local = "glsl", (16, 16)

    def _build(self) -> None:
        import moderngl

        self.ctx = moderngl.create_standalone_context(backend="egl", require=430)
        defines = f"#version 430\n#define LX {self.local[0]}\n#define LY {self.local[1]}\n"
        sources = {"tonemap": GL_TONEMAP} if self.program == "tonemap" else {"blur5": GL_BLUR5, "magsum": GL_MAGSUM}
        self.shaders = {}
        for name, text in sources.items():
            self.shaders[name] = self.ctx.compute_shader(defines + text)

    def _allocate(self, size: int):
        return self.ctx.buffer(reserve=size)

    def upload(self, inputs) -> None:
        src = np.ascontiguousarray(inputs["src"], dtype=np.float32)
        if getattr(self, "src", None) is not None:
            self.src.release()  # moderngl never frees a buffer on garbage collection
        self.src, self.shape = self.ctx.buffer(src), src.shape
        self.gain = float(inputs.get("gain", 1.5))
        pix, red = self.grids(src.shape)
        self.dst = self._out("dst", src.nbytes)
        if self.program == "edges":
            self.g = self._out("g", src.nbytes)
            self.pbuf = self._out("partials", red[0] * red[1] * 4)

    def _run(self, name: str, groups: tuple[int, int], buffers, **uniforms) -> None:
        shader = self.shaders[name]
        for slot, buf in enumerate(buffers):
            buf.bind_to_storage_buffer(slot)
        for k, v in uniforms.items():
            if k in shader:
                shader[k].value = v
        shader.run(*groups, 1)
        self.ctx.memory_barrier()

    def kernel(self) -> None:
        h, w = self.shape[:2]
        pix, red = self.grids(self.shape)
        if self.program == "tonemap":
            self._run("tonemap", pix, (self.src, self.dst), w=w, h=h, gain=self.gain)
            self.ctx.finish()
            return
        self._run("blur5", pix, (self.src, self.g), w=w, h=h)
        self._run("magsum", red, (self.g, self.dst, self.pbuf), w=w, h=h)
        partials = np.frombuffer(self.pbuf.read(size=red[0] * red[1] * 4), np.float32)  # waits
        self.mean = float(partials.sum(dtype=np.float64) / (w * h))

    def download(self):
        out = np.empty(self.shape, np.float32)
        self.dst.read_into(out, size=out.nbytes)
        return out if self.program == "tonemap" else (out, self.mean)


RUNNERS = {"opencl": CLHand, "glsl": GLHand}
