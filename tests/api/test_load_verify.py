"""``ccomp.api.load(folder, verify_key=...)``: the Python face of ``ccomp run --build DIR
--verify KEY``. A build signed with the key runs; another key, an unsigned build, an
edited one or a malformed key is refused with a ``CompileError`` that says why, before
any of the folder's code is loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import ccomp
from ccomp.api import get_build, load_source
from ccomp.diagnostics import CompileError
from ccomp.runtime.build import write_build

PROGRAM = "graph g(a: image<f32>) -> image<f32> {\n    return a * 2.0 + 1.0\n}\n"
KEY = b"k" * 32


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> Path:
    """signed/ (signed with KEY) and unsigned/, the same llvm build, plus key files."""
    root = tmp_path_factory.mktemp("load_verify")
    build, _ = get_build(load_source(PROGRAM), "llvm", None, cache=False)
    write_build(build, root / "signed", sign_key=KEY)
    write_build(build, root / "unsigned")
    (root / "key").write_bytes(KEY)
    (root / "short").write_bytes(b"k" * 4)
    return root


def _runs(prog) -> None:
    out = prog(a=np.full((3, 4), 2.0, np.float32))
    np.testing.assert_array_equal(out, np.full((3, 4), 5.0, np.float32))


def test_the_right_key_as_bytes_runs(folders):
    _runs(ccomp.api.load(folders / "signed", verify_key=KEY))


def test_the_right_key_file_runs(folders):
    _runs(ccomp.api.load(folders / "signed", verify_key=folders / "key"))


def test_without_verify_key_a_signed_build_loads_as_before(folders):
    _runs(ccomp.api.load(folders / "signed"))


def test_a_wrong_key_is_refused(folders):
    with pytest.raises(CompileError, match="signature does not match"):
        ccomp.api.load(folders / "signed", verify_key=b"x" * 32)


def test_an_unsigned_build_is_refused(folders):
    with pytest.raises(CompileError, match="is not signed.*ccomp build --sign"):
        ccomp.api.load(folders / "unsigned", verify_key=KEY)


def test_a_build_edited_after_signing_is_refused(folders, tmp_path):
    folder = Path(shutil.copytree(folders / "signed", tmp_path / "b"))
    (folder / "program.cn").write_text(PROGRAM.replace("2.0", "3.0"))
    with pytest.raises(CompileError, match="changed after signing"):
        ccomp.api.load(folder, verify_key=KEY)


@pytest.mark.parametrize("key, message", [
    (b"short", "verify_key has 5 bytes; a key has 16 to 4096"),
    ("k" * 32, "verify_key is the key as bytes or its file as a pathlib.Path, not str"),
])
def test_a_malformed_key_is_a_clear_error(folders, key, message):
    with pytest.raises(CompileError, match=message):
        ccomp.api.load(folders / "signed", verify_key=key)


def test_a_bad_key_file_is_a_clear_error(folders):
    with pytest.raises(CompileError, match="key file .* has 4 bytes"):
        ccomp.api.load(folders / "signed", verify_key=folders / "short")
    with pytest.raises(CompileError, match="key file .* cannot be read"):
        ccomp.api.load(folders / "signed", verify_key=folders / "missing")
