"""The weights a network program names by path (``<- s weights "w1.npy"``), read when the
program is loaded.

The compiler checked the file (inside the program's folder, no pickle, the
connection's shape, finite values) and tagged the input it fills with the file's
absolute path (``snn.weights_file``). Here the file is read again the same way —
``np.load(allow_pickle=False)``; a ``scipy.sparse.save_npz`` file through
:func:`ccomp.runtime.sparse.npz.load_npz`, which validates it — and becomes the
input's default, so a caller may still pass other weights under the input's name.
A file that has gone or changed shape or holds NaN since is a located error at the
parameter, like any bad input.
"""

from __future__ import annotations

import os
import stat

import numpy as np

from ccomp.diagnostics import CompileError

MAX_WEIGHT_BYTES = 1 << 30  # as the compiler allows (frontend/network/weights.py)


def load_weights(path: str, sparse: bool) -> object:
    """The array (float32, C-contiguous) or scipy CSR matrix in the weights file ``path``.
    Only a regular file of bounded size is opened (a build's host.mlir names the path;
    a FIFO or a device there must not hang or exhaust the loader)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise CompileError(f"cannot read weights file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_WEIGHT_BYTES:
        raise CompileError(f"weights file {path} is not a regular file of at most {MAX_WEIGHT_BYTES >> 20} MiB")
    try:
        if sparse:
            from ccomp.runtime.sparse.npz import load_npz

            m = load_npz(path).tocsr()
            values = np.asarray(m.data)
        else:
            loaded = np.load(path, allow_pickle=False)
            if isinstance(loaded, np.lib.npyio.NpzFile):
                with loaded:
                    if len(loaded.files) != 1:
                        raise CompileError(f"weights file {path} holds {len(loaded.files)} arrays, not one")
                    loaded = loaded[loaded.files[0]]
            m = values = np.ascontiguousarray(loaded, dtype=np.float32)
    except CompileError:
        raise
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
        raise CompileError(f"cannot read weights file {path}: {exc}") from None
    if values.size and not np.all(np.isfinite(values)):
        raise CompileError(f"weights file {path} holds NaN or infinite values")
    if sparse:
        m = m.astype(np.float32)
    return m
