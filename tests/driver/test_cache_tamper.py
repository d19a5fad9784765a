"""The build cache tampered with (issue 15): entries swapped, copied or symlinked between
two programs, truncated, malformed, forged with another key; a cache folder others may
write; a key others may read. Every compile must succeed with the right numbers, and
``cached`` is True only for an entry made for exactly this request."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import ccomp.api
from ccomp.diagnostics import Source
from ccomp.driver import cache as build_cache
from ccomp.runtime.build import write_build

TIMES2 = "graph g(a: image<f32>) -> image<f32> {\n    return a * 2.0\n}\n"
TIMES3 = "graph g(a: image<f32>) -> image<f32> {\n    return a * 3.0\n}\n"
A = np.ones((3, 4), np.float32)
TARGET = "llvm"  # the cache is the same for every target


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("CCOMP_CACHE_DIR", str(root))
    build_cache._WARNED.clear()
    return root


def compile_text(text: str) -> tuple[float, bool]:
    """(the program's output at one pixel, whether it came from the cache)."""
    build, cached = ccomp.api.get_build(Source(text, "p.cn"), TARGET)
    return float(ccomp.api.Program(build)(a=A)[0, 0]), cached


def entry(text: str) -> str:
    return str(build_cache.cache_key(text, TARGET, None))


def warm(cache: Path) -> tuple[Path, Path]:
    """Both programs compiled into the cache; their entries."""
    assert compile_text(TIMES2) == (2.0, False)
    assert compile_text(TIMES3) == (3.0, False)
    assert compile_text(TIMES2) == (2.0, True)
    return cache / entry(TIMES2), cache / entry(TIMES3)


def test_swapped_entries_are_rebuilt_never_served(cache):
    two, three = warm(cache)
    two.rename(cache / "tmp")
    three.rename(two)
    (cache / "tmp").rename(three)
    assert compile_text(TIMES2) == (2.0, False)
    assert compile_text(TIMES3) == (3.0, False)
    assert compile_text(TIMES3) == (3.0, True)  # rebuilt entries are good again


def test_a_copied_entry_is_not_served_for_another_program(cache):
    two, three = warm(cache)
    shutil.rmtree(three)
    shutil.copytree(two, three)
    assert compile_text(TIMES3) == (3.0, False)


def test_a_symlinked_entry_is_not_served(cache):
    two, three = warm(cache)
    shutil.rmtree(three)
    three.symlink_to(two)
    assert compile_text(TIMES3) == (3.0, False)
    assert not three.is_symlink()
    assert compile_text(TIMES2) == (2.0, True)  # the link's target is untouched


def test_a_symlink_to_an_entry_outside_the_cache_is_not_served(cache, tmp_path):
    two, _ = warm(cache)
    shutil.move(two, tmp_path / "planted")
    two.symlink_to(tmp_path / "planted")
    assert compile_text(TIMES2) == (2.0, False)
    assert (tmp_path / "planted" / "manifest.json").exists()  # not followed when discarding


@pytest.mark.parametrize("rel", ["manifest.json", "host.mlir", "request.json", "manifest.sig", "program.cn"])
def test_a_truncated_entry_is_rebuilt(cache, rel):
    two, _ = warm(cache)
    path = two / rel
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    assert compile_text(TIMES2) == (2.0, False)
    assert compile_text(TIMES2) == (2.0, True)


@pytest.mark.parametrize("garbage", [b"", b"{", b"[" * 50000, b'{"format": "ccomp-build", "version": 2}', b"\xff"])
def test_a_malformed_manifest_is_rebuilt(cache, garbage):
    two, _ = warm(cache)
    (two / "manifest.json").write_bytes(garbage)
    assert compile_text(TIMES2) == (2.0, False)


def test_an_edited_request_with_a_recomputed_checksum_is_refused(cache):
    """The attacker rewrites request.json to claim the entry of x3 is x2 and fixes the
    SHA-256 in the manifest: the signature (per-user key) no longer matches."""
    two, three = warm(cache)
    request = (two / "request.json").read_bytes()
    shutil.rmtree(two)
    shutil.copytree(three, two)
    (two / "request.json").write_bytes(request)
    manifest = json.loads((two / "manifest.json").read_text())
    import hashlib
    manifest["files"]["request.json"] = hashlib.sha256(request).hexdigest()
    (two / "manifest.json").write_text(json.dumps(manifest))
    assert compile_text(TIMES2) == (2.0, False)


def test_an_entry_forged_with_another_key_is_refused(cache):
    """A complete, consistent entry for the right request, signed with a key that is not
    this user's: not served."""
    warm(cache)
    key = build_cache.cache_key(TIMES2, TARGET, None)
    build = ccomp.api.build_program(Source(TIMES3, "p.cn"), TARGET)
    forged = cache / key
    shutil.rmtree(forged)
    write_build(build, forged, sign_key=b"x" * 32, extra={"request.json": key.record})
    assert compile_text(TIMES2) == (2.0, False)


def test_an_entry_replaced_by_a_file_or_fifo_is_rebuilt(cache):
    two, three = warm(cache)
    shutil.rmtree(two)
    two.write_text("not a folder")
    assert compile_text(TIMES2) == (2.0, False)
    shutil.rmtree(three)
    os.mkfifo(three)
    assert compile_text(TIMES3) == (3.0, False)


def test_a_cache_folder_others_may_write_is_refused_with_a_warning(cache, caplog):
    cache.mkdir(mode=0o700)
    os.chmod(cache, 0o777)
    with caplog.at_level(logging.WARNING, logger="ccomp.driver.cache"):
        assert compile_text(TIMES2) == (2.0, False)
        assert compile_text(TIMES2) == (2.0, False)  # the cache stays off
    assert list(cache.iterdir()) == []  # nothing written into it
    assert sum("build cache off" in r.message and "777" in r.message for r in caplog.records) == 1


def test_the_user_key_is_private_and_a_readable_key_turns_the_cache_off(cache, caplog):
    warm(cache)
    key = cache / build_cache.KEY_FILE
    assert os.stat(key).st_mode & 0o777 == 0o600 and len(key.read_bytes()) == build_cache.KEY_BYTES
    os.chmod(key, 0o644)
    with caplog.at_level(logging.WARNING, logger="ccomp.driver.cache"):
        assert compile_text(TIMES2) == (2.0, False)
    assert any("its key" in r.message for r in caplog.records)


def test_a_new_key_invalidates_every_entry(cache):
    warm(cache)
    (cache / build_cache.KEY_FILE).unlink()
    assert compile_text(TIMES2) == (2.0, False)
    assert compile_text(TIMES2) == (2.0, True)


def test_a_lone_surrogate_in_the_program_text_does_not_break_the_key():
    key = build_cache.cache_key("graph g() \udc80", TARGET, None)
    assert len(key) == 32 and b"\\udc80" in key.record
