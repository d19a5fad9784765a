"""Sparse .npz files: both directions against scipy.sparse.save_npz/load_npz, and every kind of
broken file ending in SparseInputError, never another exception."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from ccomp.runtime.sparse.formats import Format, SparseInputError, from_value, to_dense
from ccomp.runtime.sparse.npz import is_sparse_npz, load_npz, save_npz

X = sp.random(24, 40, density=0.2, format="csr", dtype=np.float32, random_state=11)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "bsr(4x4)", "bsr(8x8)", "bsr(5x3)", "dense"])
@pytest.mark.parametrize("shape", [(24, 40), (3, 5), (0, 0)])
def test_ccomp_save_scipy_load(tmp_path, fmt, shape):
    x = X[: shape[0], : shape[1]]
    a = from_value(x, Format.parse(fmt))
    save_npz(tmp_path / "m.npz", a)
    back = sp.load_npz(tmp_path / "m.npz")
    want = "csr" if a.format.kind == "dense" else a.format.kind
    if a.format.block and (shape[0] % a.format.block[0] or shape[1] % a.format.block[1]):
        want = "csr"  # scipy cannot hold a bsr whose shape is not a block multiple
    assert back.format == want and back.shape == shape and back.dtype == np.float32
    np.testing.assert_array_equal(back.toarray(), x.toarray())
    assert is_sparse_npz(tmp_path / "m.npz")


@pytest.mark.parametrize("kind", ["csr", "csc", "coo", "bsr", "dia"])
@pytest.mark.parametrize("array", [False, True])
@pytest.mark.parametrize("compressed", [False, True])
def test_scipy_save_ccomp_load(tmp_path, kind, array, compressed):
    x = X.tobsr(blocksize=(4, 8)) if kind == "bsr" else X.asformat(kind)
    if array:
        x = sp.csr_array(x).asformat(kind) if kind != "bsr" else sp.bsr_array(x)
    sp.save_npz(tmp_path / "m.npz", x, compressed=compressed)
    loaded = load_npz(tmp_path / "m.npz")
    assert sp.issparse(loaded) and loaded.format == kind and loaded.shape == X.shape  # scipy read it
    for fmt in ("csr", "bsr(4x4)", "dense"):
        np.testing.assert_array_equal(to_dense(from_value(loaded, Format.parse(fmt))), X.toarray())


def test_round_trip_of_an_all_zero_and_integer_matrix(tmp_path):
    sp.save_npz(tmp_path / "z.npz", sp.csr_matrix((5, 3), dtype=np.int64))
    z = from_value(load_npz(tmp_path / "z.npz"), Format("coo"))
    assert z.nnz == 0 and z.shape == (5, 3)
    save_npz(tmp_path / "z2.npz", z)
    assert sp.load_npz(tmp_path / "z2.npz").nnz == 0
    sp.save_npz(tmp_path / "i.npz", sp.coo_matrix(np.array([[0, 2], [3, 0]])))
    np.testing.assert_array_equal(to_dense(from_value(load_npz(tmp_path / "i.npz"), Format("csr"))),
                                  [[0, 2], [3, 0]])


def test_scipy_coo_with_duplicates_in_the_file(tmp_path):
    dup = sp.coo_matrix(([1.0, 2.0, 4.0], ([1, 1, 0], [2, 2, 0])), shape=(2, 3))
    sp.save_npz(tmp_path / "d.npz", dup)
    a = from_value(load_npz(tmp_path / "d.npz"), Format("csr"))
    assert a.parts["data"].tolist() == [4, 3] and a.parts["indices"].tolist() == [0, 2]


def write(path, **arrays):
    np.savez(path, **arrays)
    return path


def csr_arrays(**changes):
    arrays = dict(format=np.array(b"csr"), shape=np.array([2, 3]), indptr=np.array([0, 1, 2], np.int32),
                  indices=np.array([0, 2], np.int32), data=np.array([1.0, 2.0], np.float32))
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


BROKEN = {
    "missing indptr": (csr_arrays(indptr=None), "has no 'indptr' array; is it a scipy.sparse.save_npz file"),
    "missing format": (csr_arrays(format=None), "has no 'format' array"),
    "unknown format": (csr_arrays(format=np.array(b"xyz")), "unknown sparse format 'xyz'"),
    "format not a string": (csr_arrays(format=np.array([1, 2])), "'format' must be a string"),
    "wrong-length data": (csr_arrays(data=np.ones(3, np.float32)), "data has shape"),
    "wrong-length indptr": (csr_arrays(indptr=np.array([0, 2], np.int32)), "indptr has 2 entries"),
    "index out of range": (csr_arrays(indices=np.array([0, 3], np.int32)), "column index 3 is out of range"),
    "bad shape": (csr_arrays(shape=np.array([2, 3, 4])), "2-D"),
    "float shape": (csr_arrays(shape=np.array([2.5, 3.0])), "shape must be"),
    "negative shape": (csr_arrays(shape=np.array([-2, 3])), "negative"),
    "complex data": (csr_arrays(data=np.ones(2, np.complex64)), "real numbers"),
    "coo lengths": ({"format": np.array(b"coo"), "shape": np.array([2, 2]), "row": np.array([0, 1]),
                     "col": np.array([0]), "data": np.ones(2)}, "different shapes"),
    "coo coords shape": ({"format": np.array(b"coo"), "shape": np.array([2, 2]), "coords": np.zeros((3, 1), int),
                          "data": np.ones(1)}, "coords must have shape"),
    "bsr 2-D data": (csr_arrays(format=np.array(b"bsr")), "bsr data must have shape"),
    "dia mismatch": ({"format": np.array(b"dia"), "shape": np.array([2, 2]), "data": np.ones((2, 2)),
                      "offsets": np.zeros(3, int)}, "do not match"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_content(tmp_path, case):
    arrays, message = BROKEN[case]
    path = write(tmp_path / "A.npz", **arrays)
    with pytest.raises(SparseInputError, match=message) as info:
        load_npz(path)
    assert "'A.npz'" in str(info.value)


def test_broken_files(tmp_path):
    good = tmp_path / "good.npz"
    sp.save_npz(good, X)
    raw = good.read_bytes()
    cases = {
        "random.npz": np.random.default_rng(0).bytes(300),
        "empty.npz": b"",
        "truncated.npz": raw[: len(raw) // 2],
        "header-only.npz": raw[:40],
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    np.save(tmp_path / "single.npy", np.ones(3))
    buf = io.BytesIO()
    np.savez(buf, format=np.array(b"csr"), shape=np.array([1, 1]), data=np.array([object()]),
             indices=np.zeros(1, int), indptr=np.array([0, 1]))
    (tmp_path / "pickled.npz").write_bytes(buf.getvalue())
    for name in [*cases, "single.npy", "pickled.npz", "missing.npz"]:
        with pytest.raises(SparseInputError, match=name):
            load_npz(tmp_path / name)
        assert not is_sparse_npz(tmp_path / name) or name == "pickled.npz"


def test_corrupted_bytes_never_escape_as_other_errors(tmp_path):
    """Flip bytes all over a valid file: each load either succeeds or is a SparseInputError."""
    src = tmp_path / "ok.npz"
    sp.save_npz(src, X[:6, :8], compressed=False)
    raw = bytearray(src.read_bytes())
    rng = np.random.default_rng(1)
    outcomes = {"ok": 0, "error": 0}
    for trial in range(150):
        bad = bytearray(raw)
        for pos in rng.integers(0, len(bad), size=rng.integers(1, 4)):
            bad[pos] = int(rng.integers(0, 256))
        path = tmp_path / f"fuzz{trial}.npz"
        path.write_bytes(bytes(bad))
        try:
            loaded = load_npz(path)
            from_value(loaded, Format("csr"))
            outcomes["ok"] += 1
        except SparseInputError:
            outcomes["error"] += 1
    assert outcomes["error"] > 0


def test_is_sparse_npz(tmp_path):
    np.savez(tmp_path / "dense.npz", a=np.ones(2))
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as z:
        z.writestr("format.npy", b"")
    assert not is_sparse_npz(tmp_path / "dense.npz") and not is_sparse_npz(tmp_path)
    assert is_sparse_npz(tmp_path / "z.zip")  # it only looks for the key; load_npz judges the content
    with pytest.raises(SparseInputError):
        load_npz(tmp_path / "z.zip")


class _Touch:
    """Unpickling this creates a file: the proof that a pickle ran code."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_a_pickle_in_a_file_never_runs(tmp_path):
    """scipy.sparse.load_npz opens files with allow_pickle=False; so does ccomp's own look at a refused file."""
    marker = tmp_path / "ran"
    for key in ("data", "indices", "format"):
        arrays = csr_arrays(**{key: np.array([_Touch(marker)], dtype=object)})
        write(tmp_path / "evil.npz", **arrays)
        with pytest.raises(SparseInputError, match="'evil.npz'"):
            load_npz(tmp_path / "evil.npz")
        assert not marker.exists(), key
