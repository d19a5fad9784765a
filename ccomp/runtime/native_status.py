"""What a native host call leaves besides its outputs: the launch log behind
``Program.launches``, and the status words that say why a call stopped early.

Split from ``native_host.py``, which keeps the call path itself (binding, the foreign
call, the outputs); both read the words ``native_host_abi`` lays out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ccomp.runtime.devices import native_host_abi as A
from ccomp.runtime.devices.base import element_layout
from ccomp.runtime.host import ScheduleCheckError


def logged_launches(abi: A.HostABI, device: Any, parts: Sequence[np.ndarray]) -> list[tuple[str, tuple[int, ...]]]:
    """The kernels a call ran, with their grids (x first, as many as each kernel's
    rank), from the launch log's ``parts`` (flushed blocks, then the current one)."""
    entries = np.concatenate(list(parts))
    names = abi.kernels
    out = []
    for k, x, y, z in entries.reshape(-1, A.LOG_WORDS).tolist():
        rank = device.kernels[names[k]].abi.rank
        out.append((names[k], (x, y, z)[:rank]))
    return out


def stop_error(abi: A.HostABI, status: np.ndarray, code: int, host: str) -> BaseException:
    """The exception for a native call of ``@host`` that returned ``code`` (not OK)
    without a Python callback having raised: a failed ``kern.check`` as the located
    :class:`ScheduleCheckError` the Python host raises, a deferred SIGINT whose handler
    did not raise as Ctrl-C, anything else as an internal error."""
    if code == A.CHECK_FAILED:
        check = abi.checks[int(status[0])]
        values, at = [], 1
        for v in check.values:
            layout = element_layout(v.type)
            values.append(status[at:].view(layout.dtype)[0])
            at += A.words_of(v.type)
        return ScheduleCheckError(check.message.data.format(*values), check.location)
    if code == A.STOPPED:
        return KeyboardInterrupt()
    return RuntimeError(f"llvm: the native host of @{host} stopped with code {code}")


__all__ = ["logged_launches", "stop_error"]
