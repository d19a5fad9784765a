"""Philox4x32-10 built as IR: the generator of ``network`` programs' encoders and
weight initialisers, inside any kernel (or host code) an :class:`IRBuilder` builds.

The meaning is ``ccomp.semantics.philox`` (whose docstring states the contract);
this builds the same words from ``i32`` values with arith ops every backend emits.
The 32×32→64 products go through ``i64`` (``extui``, ``muli``, ``trunci``); the high
word is taken by an exact signed division, ``(p - zext(lo)) / 2**32``, not by a shift:
GLSL on Mesa refuses an ``int64_t`` shift count (``RHS of operator >> must be an
integer``), so ``shrsi`` on ``i64`` does not reach every target, and dividing a
multiple of 2**32 by 2**32 is exact whatever the sign (LLVM turns it into shifts).
``uniform01`` needs only an ``i32`` shift. Integers of the counter and key are taken
as unsigned bit patterns; ``addi`` and ``muli`` wrap on every target.
"""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerAttr, f32, i32, i64
from xdsl.ir import SSAValue

from ccomp.passes.lowering.builder import IRBuilder

# Random123's Philox4x32 constants (ccomp.semantics.philox.CONSTANTS[32], which the
# passes may not import; tests/semantics/test_philox.py checks both agree).
_M0, _M1, _W0, _W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
ROUNDS = 10


def _signed32(value: int) -> int:
    """A u32 bit pattern as the signed value an ``i32`` attribute holds."""
    return value - (1 << 32) if value >= 1 << 31 else value


def _i64(b: IRBuilder, value: int) -> SSAValue:
    return b.add(arith.ConstantOp(IntegerAttr(value, i64)))


def mulhilo(b: IRBuilder, multiplier: int, x: SSAValue) -> tuple[SSAValue, SSAValue]:
    """The high and low 32 bits of ``multiplier * x`` (both unsigned), as ``i32``."""
    wide = b.add(arith.MuliOp(b.add(arith.ExtUIOp(x, i64)), _i64(b, multiplier)))
    lo = b.add(arith.TruncIOp(wide, i32))
    upper = b.subi(wide, b.add(arith.ExtUIOp(lo, i64)))  # hi * 2**32 (mod 2**64)
    hi = b.add(arith.TruncIOp(b.divi(upper, _i64(b, 1 << 32)), i32))
    return hi, lo


def philox4x32_10(b: IRBuilder, key: tuple[SSAValue, SSAValue],
                  counter: tuple[SSAValue, SSAValue, SSAValue, SSAValue]) -> tuple[SSAValue, ...]:
    """The four raw ``i32`` words of Philox4x32-10 for ``key`` and ``counter`` (``i32``
    values; an ``index`` counter word is cast)."""
    k0, k1 = (b.to_i32(k) for k in key)
    c0, c1, c2, c3 = (b.to_i32(c) for c in counter)
    w0, w1 = b.i32(_signed32(_W0)), b.i32(_signed32(_W1))
    for r in range(ROUNDS):
        if r:
            k0, k1 = b.addi(k0, w0), b.addi(k1, w1)
        hi0, lo0 = mulhilo(b, _M0, c0)
        hi1, lo1 = mulhilo(b, _M1, c2)
        c0 = b.add(arith.XOrIOp(b.add(arith.XOrIOp(hi1, c1)), k0))
        c2 = b.add(arith.XOrIOp(b.add(arith.XOrIOp(hi0, c3)), k1))
        c1, c3 = lo1, lo0
    return c0, c1, c2, c3


def uniform01(b: IRBuilder, word: SSAValue) -> SSAValue:
    """An ``f32`` in [0, 1) from a raw word: its top 24 bits (as an exact integer) times 2**-24."""
    top = b.add(arith.AndIOp(b.add(arith.ShRSIOp(word, b.i32(8))), b.i32(0xFFFFFF)))
    return b.add(arith.MulfOp(b.add(arith.SIToFPOp(top, f32)), b.f32(2.0 ** -24)))
