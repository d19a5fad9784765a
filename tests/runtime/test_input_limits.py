"""Input files are sized from their headers before anything is decoded.

A PNG of 12000x12000 decoded to 1.8 GB with only Pillow's DecompressionBombWarning;
an ``.npy``/``.npz`` or a sparse ``.npz`` of a few bytes can declare gigabytes (or a
2^31 x 2^31 matrix). Each is now a clean error naming the file and its size, raised
before the allocation. The files here are real, crafted to declare huge sizes while
holding almost nothing, so a test that failed to refuse them would fail to read them
rather than exhaust memory; Pillow's DecompressionBombWarning is an error in these
tests, so a warning plus a decode would fail them too.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from ccomp.diagnostics import CompileError
from ccomp.runtime.imageio import DEFAULT_MAX_PIXELS, read_array
from ccomp.runtime.sparse.formats import SparseInputError
from ccomp.runtime.sparse.npz import load_npz

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_declaring(path: Path, width: int, height: int) -> Path:
    """A PNG whose header says ``width`` x ``height`` greyscale, with one row of data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * (width + 1))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b""))
    return path


def _npy_declaring(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    """An ``.npy`` header declaring ``shape``, followed by 16 bytes of data."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": dtype, "fortran_order": False, "shape": shape})
    return out.getvalue() + bytes(16)


def test_png_over_the_pixel_limit_names_file_and_size(tmp_path):
    path = _png_declaring(tmp_path / "huge.png", 12000, 12000)
    with pytest.raises(CompileError, match=r"input 'src': '.*huge.png' is 12000x12000 = 144000000 pixels "
                                           r"\(2.3 GB as float32\), more than the limit of 89478485 pixels; "
                                           r"set CCOMP_MAX_IMAGE_PIXELS"):
        read_array(str(path), 4, "input 'src'")


def test_png_over_twice_pillows_bound(tmp_path):
    path = _png_declaring(tmp_path / "bomb.png", 20000, 20000)
    with pytest.raises(CompileError, match=r"'.*bomb.png' is too large to decode .*400000000 pixels"):
        read_array(str(path), 1, "input 'src'")


def test_pixel_limit_is_configurable(tmp_path, monkeypatch):
    card = ROOT / "examples" / "data" / "card.png"
    image = read_array(str(card), 1, "input 'src'")
    h, w = image.shape
    monkeypatch.setenv("CCOMP_MAX_IMAGE_PIXELS", str(h * w - 1))
    with pytest.raises(CompileError, match=rf"is {w}x{h} = {w * h} pixels .* limit of {h * w - 1} pixels"):
        read_array(str(card), 1, "input 'src'")
    monkeypatch.setenv("CCOMP_MAX_IMAGE_PIXELS", str(h * w))
    np.testing.assert_array_equal(read_array(str(card), 1, "input 'src'"), image)
    monkeypatch.setenv("CCOMP_MAX_IMAGE_PIXELS", "lots")
    with pytest.raises(CompileError, match="CCOMP_MAX_IMAGE_PIXELS: 'lots' is not a positive number of pixels"):
        read_array(str(card), 1, "input 'src'")
    assert DEFAULT_MAX_PIXELS == 89_478_485


def test_npy_declaring_terabytes(tmp_path):
    path = tmp_path / "big.npy"
    path.write_bytes(_npy_declaring((1_000_000, 1_000_000)))
    with pytest.raises(CompileError, match=r"'.*big.npy' declares a 1000000 x 1000000 float32 array \(4.0 TB\), "
                                           r"more than the .* of memory here"):
        read_array(str(path), 1, "input 'u'")


def test_npy_declaring_more_than_it_holds(tmp_path):
    path = tmp_path / "short.npy"
    path.write_bytes(_npy_declaring((1000, 1000)))
    with pytest.raises(CompileError, match=r"declares a 1000 x 1000 float32 array \(4.0 MB\) but holds only 16 B"):
        read_array(str(path), 1, "input 'u'")


def test_dense_npz_declaring_terabytes(tmp_path):
    path = tmp_path / "big.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("u.npy", _npy_declaring((1_000_000, 1_000_000)))
    with pytest.raises(CompileError, match=r"'.*big.npz' declares a 1000000 x 1000000 float32 array \(4.0 TB\)"):
        read_array(str(path), 1, "input 'u'")


def test_ordinary_arrays_still_load(tmp_path):
    value = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "a.npy", value)
    np.savez_compressed(tmp_path / "a.npz", u=value)
    np.testing.assert_array_equal(read_array(str(tmp_path / "a.npy"), 1, "input 'u'"), value)
    np.testing.assert_array_equal(read_array(str(tmp_path / "a.npz"), 1, "input 'u'"), value)


def _sparse_npz(path: Path, arrays: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in arrays.items():
            z.writestr(name + ".npy", data)
    return path


def _npy(value: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, value)
    return out.getvalue()


def test_sparse_npz_declaring_a_2_31_square_matrix(tmp_path):
    """A csr of 2^31 rows declares 2^31 + 1 int64 index pointers (16 GB) that scipy would
    allocate first; the shape is refused from the header before."""
    path = _sparse_npz(tmp_path / "A.npz", {
        "format": _npy(np.array("csr")), "shape": _npy(np.array([2**31, 2**31])),
        "indptr": _npy_declaring((2**31 + 1,), "<i8"), "indices": _npy(np.array([0], np.int32)),
        "data": _npy(np.array([1.0], np.float32))})
    with pytest.raises(SparseInputError, match=r"'A.npz': shape \(2147483648, 2147483648\) is too big"):
        load_npz(path)


def test_sparse_npz_declaring_terabytes_of_index_pointers(tmp_path):
    path = _sparse_npz(tmp_path / "A.npz", {
        "format": _npy(np.array("csr")), "shape": _npy(np.array([1000, 1000])),
        "indptr": _npy_declaring((10**12,), "<i8"), "indices": _npy(np.array([0], np.int32)),
        "data": _npy(np.array([1.0], np.float32))})
    with pytest.raises(SparseInputError, match=r"'A.npz' declares a 1000 x 1000 matrix whose arrays \('indptr': "
                                               r"1000000000000, 8.0 TB\) and index pointers need 8.0 TB"):
        load_npz(path)


def test_ordinary_sparse_npz_still_loads(tmp_path):
    m = sp.random(20, 30, density=0.1, format="csr", dtype=np.float32, random_state=1)
    sp.save_npz(tmp_path / "m.npz", m)
    assert (load_npz(tmp_path / "m.npz") != m).nnz == 0


def test_cli_reports_the_image_without_a_traceback(tmp_path):
    path = _png_declaring(tmp_path / "huge.png", 12000, 12000)
    proc = subprocess.run([sys.executable, "-m", "ccomp.driver.cli", "run", "examples/tonemap.cn",
                           "--input", f"src={path}", "--output", f"out={tmp_path / 'o.png'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "12000x12000 = 144000000 pixels" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert "DecompressionBombWarning" not in proc.stderr
