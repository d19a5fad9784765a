"""Weights named by a path string in a network (``<- s weights "w1.npy"``), checked at
compile time.

A path is relative to the program's folder and must stay inside it (after resolving
symlinks): a program cannot make the compiler read ``/etc`` or ``../secrets``. Files are
read with ``allow_pickle=False`` (a file can never run code): ``.npy`` holds a dense
matrix, ``.npz`` a ``scipy.sparse.save_npz`` matrix (CSR at run time) or one dense
array. The matrix must be real, finite and of the connection's shape (sources ×
targets). The runtime loads the file again, the same way, when the program runs
(the input it fills keeps the file's name, so a caller may pass other weights).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ccomp.frontend import ast

Fail = Callable[[ast.Node, str], Exception]
MAX_WEIGHT_BYTES = 1 << 30


@dataclass(frozen=True)
class WeightFile:
    path: str  # absolute
    sparse: bool  # a scipy.sparse matrix (csr at run time) rather than a dense array
    shape: tuple[int, int]


def program_folder(source_name: str) -> Path:
    """The folder paths in a program are relative to: its file's, or the working
    directory for a program given as text."""
    p = Path(source_name)
    return p.resolve().parent if p.is_file() else Path.cwd().resolve()


def resolve(e: ast.String, source_name: str, fail: Fail) -> Path:
    folder = program_folder(source_name)
    if not e.value:
        raise fail(e, "the weights' path is empty")
    path = (folder / e.value).resolve()
    if path != folder and folder not in path.parents:
        raise fail(e, f"weights file '{e.value}' is outside the program's folder ({folder}); "
                      f"copy it next to the program")
    if path.suffix not in (".npy", ".npz"):
        raise fail(e, f"weights file '{e.value}' must be a .npy or .npz file")
    if not path.exists():
        raise fail(e, f"weights file '{e.value}' does not exist (looked for {path})")
    if not path.is_file():
        raise fail(e, f"weights file '{e.value}' is not a regular file")
    if path.stat().st_size > MAX_WEIGHT_BYTES:
        raise fail(e, f"weights file '{e.value}' is larger than {MAX_WEIGHT_BYTES >> 20} MiB")
    return path


def read(e: ast.String, source_name: str, fail: Fail) -> tuple[WeightFile, np.ndarray]:
    """The checked file and its values as a dense float64 matrix (for the checks)."""
    path = resolve(e, source_name, fail)
    what = f"weights file '{e.value}'"
    sparse = False
    try:
        if path.suffix == ".npz" and _is_sparse(path):
            import scipy.sparse as sp

            m = sp.load_npz(path)  # np.load(allow_pickle=False) inside
            sparse, values = True, m
        else:
            loaded = np.load(path, allow_pickle=False)
            if isinstance(loaded, np.lib.npyio.NpzFile):
                with loaded:
                    if len(loaded.files) != 1:
                        raise fail(e, f"{what} holds {len(loaded.files)} arrays; a weights .npz holds one "
                                      f"array or a scipy.sparse matrix")
                    values = loaded[loaded.files[0]]
            else:
                values = loaded
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "pickle" in str(exc).lower():
            raise fail(e, f"{what} holds Python objects (a pickle); ccomp reads only plain numeric "
                          f"arrays (save with numpy.save of a float array)") from None
        raise fail(e, f"{what} cannot be read: {exc}") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise fail(e, f"{what} cannot be read: {exc}") from None
    if sparse:
        data = np.asarray(values.data)
        shape = tuple(values.shape)
    else:
        data = np.asarray(values)
        shape = tuple(data.shape)
    if data.dtype.kind not in "fiub":
        raise fail(e, f"{what} must hold real numbers, got dtype {data.dtype}")
    if len(shape) != 2:
        raise fail(e, f"{what} must hold a matrix (sources x targets), got shape {shape}")
    if data.size and not np.all(np.isfinite(data.astype(np.float64))):
        bad = int(np.count_nonzero(~np.isfinite(data.astype(np.float64))))
        raise fail(e, f"{what} holds {bad} NaN or infinite value{'s' if bad != 1 else ''}")
    return WeightFile(str(path), sparse, (int(shape[0]), int(shape[1]))), data


def _is_sparse(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return "format.npy" in z.namelist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return False


def port_name(path: str, taken: set[str]) -> str:
    """The input a weights file fills: its stem when that is a free identifier
    (``w1`` for ``w1.npy``), else ``weights_<stem>_<n>``."""
    stem = os.path.splitext(os.path.basename(path))[0]
    base = stem if stem.isidentifier() else "weights_" + "".join(c if c.isalnum() else "_" for c in stem)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name
