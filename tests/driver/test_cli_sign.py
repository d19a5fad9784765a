"""``ccomp build --sign KEY`` and ``ccomp run --build DIR --verify KEY``, as a user runs
them: a signed build runs, anything else is refused with a message (exit 1), never a
traceback."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from cliutil import assert_user_error, ccomp

PROGRAM = "graph g(a: image<f32>) -> image<f32> {\n    return a * 2.0 + 1.0\n}\n"


@pytest.fixture(scope="module")
def signed(tmp_path_factory) -> Path:
    """A program, a key, an input, and the program built into build/ signed with the key."""
    root = tmp_path_factory.mktemp("sign")
    (root / "p.cn").write_text(PROGRAM)
    (root / "key").write_bytes(b"s" * 32)
    np.save(root / "a.npy", np.full((3, 4), 2, np.float32))
    res = ccomp("build", str(root / "p.cn"), "-t", "glsl", "--sign", str(root / "key"), "-o", str(root / "build"))
    assert res.returncode == 0, res.stderr
    assert "(signed)" in res.stdout and (root / "build" / "manifest.sig").exists()
    return root


def run_build(root: Path, folder: Path, key: Path) -> object:
    return ccomp("run", "--build", str(folder), "--verify", str(key), "--input", f"a={root / 'a.npy'}",
                 "--output", f"out={root / 'out.npy'}")


def test_a_signed_build_runs_when_verified(signed):
    res = run_build(signed, signed / "build", signed / "key")
    assert res.returncode == 0, res.stderr
    assert np.load(signed / "out.npy")[0, 0] == 5.0


def test_another_key_is_refused(signed, tmp_path):
    (tmp_path / "other").write_bytes(b"t" * 32)
    assert_user_error(run_build(signed, signed / "build", tmp_path / "other"), "signature does not match")


def test_an_edited_build_is_refused(signed, tmp_path):
    import shutil

    folder = Path(shutil.copytree(signed / "build", tmp_path / "b"))
    shader = folder / "kernels" / "g_0.comp"
    shader.write_text(shader.read_text().replace("2.0", "7.0"))
    assert_user_error(run_build(signed, folder, signed / "key"), "changed after signing")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["kernels/g_0.comp"] = hashlib.sha256(shader.read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert_user_error(run_build(signed, folder, signed / "key"), "signature does not match")


def test_an_unsigned_build_is_refused_when_verifying(signed, tmp_path):
    res = ccomp("build", str(signed / "p.cn"), "-t", "glsl", "-o", str(tmp_path / "b"))
    assert res.returncode == 0 and "(signed)" not in res.stdout, res.stderr
    assert_user_error(run_build(signed, tmp_path / "b", signed / "key"), "not signed")


@pytest.mark.parametrize("key,message", [(b"short", "16 to 4096"), (None, "No such file"),
                                         ("fifo", "not a regular file"), ("/dev/zero", "not a regular file")])
def test_a_bad_key_file_is_a_user_error(signed, tmp_path, key, message):
    import os

    path = tmp_path / "k"
    if key == "fifo":  # must not block: opened non-blocking, refused by type
        os.mkfifo(path)
    elif key == "/dev/zero":  # must not read forever
        path.symlink_to("/dev/zero")
    elif key is not None:
        path.write_bytes(key)
    assert_user_error(ccomp("build", str(signed / "p.cn"), "--sign", str(path), "-o", str(tmp_path / "b")), message)


def test_flags_where_they_mean_nothing_are_refused(signed):
    assert_user_error(ccomp("run", str(signed / "p.cn"), "--verify", str(signed / "key")), "--build DIR")
    assert_user_error(ccomp("build", str(signed / "p.cn"), "--emit", "glsl", "--sign", str(signed / "key")),
                      "--sign signs the build folder")


@pytest.mark.parametrize("damage", ["manifest", "symlink"])
def test_a_damaged_build_is_a_message_not_a_traceback(signed, tmp_path, damage):
    import shutil

    folder = Path(shutil.copytree(signed / "build", tmp_path / "b"))
    if damage == "manifest":
        (folder / "manifest.json").write_text('{"format": "ccomp-build", "version": 2, "kernels": 5}')
    else:
        (folder / "program.cn").unlink()
        (folder / "program.cn").symlink_to("/etc/passwd")
    res = ccomp("run", "--build", str(folder), "--input", f"a={signed / 'a.npy'}")
    assert_user_error(res, "is refused")
    assert "root:" not in res.stderr  # nothing of the file outside is quoted
