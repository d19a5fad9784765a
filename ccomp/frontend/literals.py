"""Reading the numbers a program spells out: literals, sizes, block sizes, quantities.

Python reads any number of digits, but not in bounded time or memory: ``int()`` of
more than 4300 digits raises ``ValueError`` (the interpreter's guard against quadratic
conversion), and ``float()`` of a huge integer raises ``OverflowError``. So lengths
and ranges are checked here, on the text, before converting; a literal out of range
is a :class:`LiteralError` the parser reports at the literal.

Integer literals may have up to :data:`MAX_INT_DIGITS` significant digits: enough for
every value a type can hold (the type checker then says which type it does not fit,
as docs/language.md describes), few enough that conversion is instant. Sizes
(``512x512``, ``128x784xf32``, ``bsr(4x4)``) are at most :data:`MAX_SIZE`.
"""

from __future__ import annotations

import re

# An f64 reaches about 1.8e308: 309 digits; more can fit no type.
MAX_INT_DIGITS = 310
# A size in a type or a block size: an i32, as sizes are at run time.
MAX_SIZE = 2**31 - 1
# Shown in messages: a literal longer than this is abbreviated.
_SHOWN = 24

_SHAPE_DIMS = re.compile(r"(?:(?:\d+|\?)x)+")
_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "Hz": 1.0, "kHz": 1e3}


class LiteralError(Exception):
    """A literal the language cannot hold; ``message`` is the diagnostic's text."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def shown(text: str) -> str:
    """A literal as messages quote it: whole when short, else its head and its length."""
    if len(text) <= _SHOWN:
        return text
    return f"{text[:12]}...{text[-4:]} ({len(text)} characters)"


def integer(text: str) -> int:
    """The value of a run of decimal digits, at most :data:`MAX_INT_DIGITS` of them
    after leading zeros."""
    digits = text.lstrip("0") or "0"
    if len(digits) > MAX_INT_DIGITS:
        raise LiteralError(f"integer literal {shown(text)} is too large for any type "
                           f"(the widest, i64, holds up to 9223372036854775807)")
    return int(digits)


def size(text: str, what: str = "size") -> int:
    """One size of a ``DIMS``/``SHAPE`` token: an integer from 0 to :data:`MAX_SIZE`."""
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(MAX_SIZE)) or int(digits) > MAX_SIZE:
        raise LiteralError(f"{what} {shown(text)} is too large (at most {MAX_SIZE})")
    return int(digits)


def sizes(text: str, what: str = "size") -> tuple[int, ...]:
    """``512x512`` as ``(512, 512)``, each checked by :func:`size`."""
    return tuple(size(d, what) for d in text.split("x"))


def check_shape(text: str) -> None:
    """Check the sizes of a ``SHAPE`` token (``128x?xf32``: sizes, then the element
    type, which may itself hold an ``x``, as in ``?xaxf32``)."""
    dims = _SHAPE_DIMS.match(text)
    for d in dims.group()[:-1].split("x") if dims else ():
        if d != "?":
            size(d, "tensor size")


def quantity(text: str) -> tuple[float, str]:
    """``1.5ms`` as ``(0.0015, "s")``; ``100kHz`` as ``(100000.0, "Hz")``. The number
    part is a float literal (``float()`` reads any length in linear time)."""
    unit = next(u for u in ("kHz", "Hz", "ms", "us", "ns", "s") if text.endswith(u))
    return float(text[: -len(unit)]) * _UNITS[unit], "Hz" if unit.endswith("Hz") else "s"
