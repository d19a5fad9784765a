"""Philox for ``network`` randomness: the NumPy reference (``ccomp.semantics.philox``)
against NumPy's own ``Philox`` and Random123's known answers, and the IR builder
(``passes/lowering/philox.py``) in a hand-built ``kern`` kernel on every target
against the reference, word for word."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects.builtin import MemRefType, ModuleOp, UnknownLoc, f32, i32

from ccomp.api import prepare
from ccomp.passes.lowering import philox as ir_philox
from ccomp.passes.lowering.builder import KernelBuilder
from ccomp.runtime.devices import gl, opencl
from ccomp.runtime.devices.llvm import LLVMDevice
from ccomp.semantics import philox

U32 = np.uint32
# Random123's kat_vectors for philox4x32 with 10 rounds: (counter, key, output).
KAT_4X32 = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("counter,key,want", KAT_4X32)
def test_4x32_known_answers(counter, key, want) -> None:
    got = philox.philox4x32_10(np.array(key, U32), np.array(counter, U32))
    assert got.dtype == U32 and [int(v) for v in got] == list(want)


def _scalar_4x32(key: tuple[int, int], ctr: tuple[int, ...]) -> tuple[int, ...]:
    """Philox4x32-10 on Python ints, written straight from the Random123 paper: a second
    implementation that shares no code with the vectorised one."""
    m = 0xFFFFFFFF
    k0, k1 = key
    c = list(ctr)
    for r in range(10):
        if r:
            k0, k1 = (k0 + 0x9E3779B9) & m, (k1 + 0xBB67AE85) & m
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k0, p1 & m, (p0 >> 32) ^ c[3] ^ k1, p0 & m]
    return tuple(c)


def test_4x32_many_keys_and_counters_match_scalar_definition() -> None:
    rng = np.random.default_rng(11)
    for key in [(0, 0), (1, 0), (0xFFFFFFFF, 0xFFFFFFFF)] + [tuple(rng.integers(0, 2**32, 2)) for _ in range(5)]:
        ctr = rng.integers(0, 2**32, (40, 4), dtype=np.uint64).astype(U32)
        ctr[:4] = [[0, 0, 0, 0], [0xFFFFFFFF, 0, 0, 0], [5, 7, 1, 0x100], [0xFFFFFFFF] * 4]
        got = philox.philox4x32_10(np.array(key, U32), ctr)
        want = np.array([_scalar_4x32(tuple(int(k) for k in key), tuple(int(c) for c in row)) for row in ctr], U32)
        np.testing.assert_array_equal(got, want)


def _numpy_raw(key: np.ndarray, counter: np.ndarray) -> np.ndarray:
    """NumPy's ``Philox`` block for ``counter``: it increments its counter (with carries
    across the four words) before each block, so it is started one below."""
    below = [int(w) for w in counter]
    for i in range(4):  # subtract one with borrow
        below[i] = (below[i] - 1) % 2**64
        if below[i] != 2**64 - 1:
            break
    as_int = sum(w << (64 * i) for i, w in enumerate(below))
    return np.random.Philox(key=int(key[0]) | int(key[1]) << 64, counter=as_int).random_raw(4)


def test_same_algorithm_as_numpy_philox() -> None:
    """The shared implementation at 64-bit words is ``numpy.random.Philox``: same rounds,
    key schedule and word order; counters whose words carry into the next one included."""
    rng = np.random.default_rng(3)
    keys = [np.array([0, 0], np.uint64), np.array([2**64 - 1, 2**64 - 1], np.uint64),
            rng.integers(0, 2**64, 2, dtype=np.uint64)]
    top = 2**64 - 1
    ctrs = [[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [top, 5, 0, 0], [0, top, top, 0],
            [top, top, top, top]] + rng.integers(0, 2**64, (6, 4), dtype=np.uint64).tolist()
    for key in keys:
        counter = np.array(ctrs, np.uint64)
        got = philox.philox(key, counter, width=64)
        want = np.stack([_numpy_raw(key, row) for row in counter])
        np.testing.assert_array_equal(got, want)


def test_uniform_poisson_and_initialisers() -> None:
    words = np.array([0, 0xFF, 0x100, 0xFFFFFFFF, 0x80000000], U32)
    np.testing.assert_array_equal(philox.uniform01(words),
                                  np.array([0, 0, 2**-24, 1 - 2**-24, 0.5], np.float32))
    assert philox.uniform01(words).dtype == np.float32
    np.testing.assert_array_equal(philox.key_of(0x1234567889ABCDEF), np.array([0x89ABCDEF, 0x12345678], U32))
    # poisson: word0 of counter (step, neuron, batch, 0x100 + k) against x * float32(rate * dt)
    x = np.linspace(0, 1, 50, dtype=np.float32)
    spikes = philox.poisson_spikes(x, 400.0, 1e-3, seed=9, step=4, batch=2, stream=0x101)
    u = philox.uniform01(philox.philox4x32_10(philox.key_of(9), philox.counters(4, np.arange(50), 2, 0x101))[:, 0])
    np.testing.assert_array_equal(spikes, u < x * np.float32(0.4))
    batched = philox.poisson_spikes(np.stack([x, x]), 400.0, 1e-3, 9, 4, np.arange(2)[:, None], 0x101)
    np.testing.assert_array_equal(batched[1], philox.poisson_spikes(x, 400.0, 1e-3, 9, 4, 1, 0x101))
    assert not np.array_equal(batched[0], batched[1])
    many = philox.poisson_spikes(np.full(20000, 0.5, np.float32), 100.0, 1e-3, 1, 0, 0, 0x100)
    assert abs(many.mean() - 0.05) < 0.006  # 0.05 ± 4 standard deviations
    w = philox.init_uniform((30, 40), -0.5, 1.5, seed=2, stream=0x200)
    assert w.dtype == np.float32 and w.shape == (30, 40) and -0.5 <= w.min() and w.max() < 1.5
    assert abs(w.mean() - 0.5) < 0.05
    n = philox.init_normal((100, 100), 1.0, 2.0, seed=2, stream=0x201)
    assert n.dtype == np.float32 and np.isfinite(n).all()
    assert abs(n.mean() - 1.0) < 0.1 and abs(n.std() - 2.0) < 0.1


def test_ir_constants_are_the_references() -> None:
    assert (ir_philox._M0, ir_philox._M1, ir_philox._W0, ir_philox._W1) == philox.CONSTANTS[32]
    assert ir_philox.ROUNDS == philox.ROUNDS


# ---- the IR builder's code on every target ----------------------------------------------
def _kernel_module() -> ModuleOp:
    """``@philox``, rank 1: point x reads counter words C0..C3[x], writes the four raw
    words to W[x, 0..3] and uniform01(word 0) to U[x]; the key comes as two uniforms."""
    vec, mat, fvec = MemRefType(i32, [-1]), MemRefType(i32, [-1, -1]), MemRefType(f32, [-1])
    kb = KernelBuilder("philox", 1, [vec, vec, vec, vec, i32, i32, mat, fvec], UnknownLoc())
    x = kb.point(0)
    counter = tuple(kb.load(kb.args[i], x) for i in range(4))
    words = ir_philox.philox4x32_10(kb, (kb.args[4], kb.args[5]), counter)
    for j, word in enumerate(words):
        kb.store(word, kb.args[6], x, kb.index(j))
    kb.store(ir_philox.uniform01(kb, words[0]), kb.args[7], x)
    return ModuleOp([kb.finish()])


def _device(name: str):
    if name == "llvm":
        return LLVMDevice()
    module = {"opencl": opencl, "glsl": gl}[name]
    ok, why = module.probe()
    if not ok:
        pytest.skip(f"{name} unavailable here: {why}")
    return opencl.CLDevice() if name == "opencl" else gl.GLDevice()


@pytest.mark.parametrize("target", ["llvm", "opencl", "glsl"])
def test_ir_builder_matches_reference_on_every_target(target: str) -> None:
    device = _device(target)
    module = _kernel_module()
    module.verify()
    prepare(device, module)
    rng = np.random.default_rng(5)
    n = 257
    ctr = rng.integers(0, 2**32, (n, 4), dtype=np.uint64).astype(U32)
    ctr[: len(KAT_4X32)] = [c for c, _, _ in KAT_4X32]
    ctr[3:7] = [[0xFFFFFFFF, 0, 0, 0], [0, 0xFFFFFFFF, 3, 0x100], [99, 783, 63, 0x101], [7, 127, 0, 0x200]]
    for key in [(0xA4093822, 0x299F31D0), (0, 0), (0xFFFFFFFF, 0x7FFFFFFF)]:
        kernel_args = [device.upload(MemRefType(i32, [-1]), np.ascontiguousarray(ctr[:, i]).view(np.int32))
                       for i in range(4)]
        kernel_args += [int(np.array(key[0], U32).view(np.int32)), int(np.array(key[1], U32).view(np.int32))]
        out_w = device.alloc(MemRefType(i32, [-1, -1]), (n, 4))
        out_u = device.alloc(MemRefType(f32, [-1]), (n,))
        device.launch("philox", [n], kernel_args + [out_w, out_u])
        want = philox.philox4x32_10(np.array(key, U32), ctr)
        got = device.download(out_w).view(U32)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(device.download(out_u), philox.uniform01(want[:, 0]))
