"""Sizes in the runtime: the memory budget a program keeps free buffers within (parsed
from ``memory_budget=`` or ``CCOMP_MEMORY_BUDGET``), how much memory the machine can
hold, and bytes in words for messages. The pool, the input readers and the face use
them; none of them needs the pool itself.
"""

from __future__ import annotations

import os
import re

DEFAULT_BUDGET = 1 << 30  # bytes of free buffers kept for reuse
BUDGET_ENV = "CCOMP_MEMORY_BUDGET"
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
          "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*", re.IGNORECASE)


def machine_memory() -> int:
    """Bytes this process can ever have resident: physical memory, or the cgroup's
    ``memory.max`` when that is lower (a container)."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not POSIX: no sound figure, use a large one
        total = 1 << 44
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            text = f.read().strip()
        if text.isdigit():
            total = min(total, int(text))
    except OSError:
        pass
    return total


def show_bytes(n: int) -> str:
    """``n`` bytes in words: ``40.0 GB``, ``512 B``."""
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


class BudgetError(ValueError):
    """A memory budget that is not a size; the message says what is accepted."""


def parse_budget(value: int | str, what: str = "memory_budget") -> int:
    """Bytes from ``value``: a non-negative integer, or text such as ``536870912``,
    ``512MB`` (decimal units), ``2GiB`` or ``2G`` (binary units)."""
    accepted = "give bytes (536870912) or a size with a unit (512MB, 2GiB)"
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BudgetError(f"{what}: expected a size in bytes, got {type(value).__name__} {value!r}; {accepted}")
    if isinstance(value, int):
        if value < 0:
            raise BudgetError(f"{what}: a budget cannot be negative ({value}); {accepted}")
        return value
    match = _SIZE.fullmatch(value)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise BudgetError(f"{what}: '{value}' is not a size; {accepted}")
    return int(float(match.group(1)) * _UNITS[unit])


def resolve_budget(value: int | str | None = None) -> int:
    """The budget a new pool gets: ``value`` if given, else ``CCOMP_MEMORY_BUDGET`` if
    set, else ``DEFAULT_BUDGET``."""
    if value is not None:
        return parse_budget(value)
    env = os.environ.get(BUDGET_ENV)
    if env is not None and env.strip():
        return parse_budget(env, BUDGET_ENV)
    return DEFAULT_BUDGET
