"""Text or path, said explicitly (issue 15): ``compile_file`` reads a file,
``compile_source`` compiles text, and ``compile`` reads a ``pathlib.Path`` as a file
and a ``str`` as text only — a string is never guessed to be a path, so text from
anyone cannot make ccomp read a file and quote it in a diagnostic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ccomp
from ccomp.api import load_source

ROOT = Path(__file__).resolve().parents[2]
DOUBLE = "graph g(a: image<f32>) -> image<f32> { return a * 2.0 }"


def error_of(call) -> ccomp.CompileError:
    with pytest.raises(ccomp.CompileError) as info:
        call()
    return info.value


@pytest.mark.parametrize("text", ["/etc/passwd", "examples/heat.cn", str(ROOT / "examples" / "heat.cn"),
                                  "missing.cn", " prog.cn "])
def test_a_str_that_looks_like_a_path_is_refused_unread(text):
    err = error_of(lambda: ccomp.compile(text))
    assert "looks like a path" in err.message and f"ccomp.compile_file({text!r})" in err.message
    assert err.diagnostic.loc is None and err.diagnostic.source_line is None  # nothing was read
    assert "root:" not in str(err) and "graph heat" not in str(err)


def test_a_str_naming_no_file_is_program_text():
    err = error_of(lambda: ccomp.compile("/no/such/dir/prog.txt"))
    assert str(err).startswith("<string>:1:1: error: unexpected '/'; expected ")
    assert "'fn', 'graph'" in str(err).splitlines()[0]


def test_compile_file_reads_str_and_path_and_names_it(tmp_path):
    path = tmp_path / "bad.cn"
    path.write_text("graph g(a: image<f32>) -> image<f32> {\n    return b\n}\n")
    for given in (path, str(path)):
        err = error_of(lambda: ccomp.compile_file(given, cache=False))
        assert str(err).startswith(f"{path}:2:12: error: unknown name 'b'")
    assert str(error_of(lambda: ccomp.compile_file(tmp_path / "none.cn"))).startswith("error: no such file")


def test_compile_source_names_its_text_and_refuses_a_path():
    err = error_of(lambda: ccomp.compile_source("graph g(a: image<f32>) -> image<f32> { return b }",
                                                name="mine.cn", cache=False))
    assert str(err).startswith("mine.cn:1:47: error: unknown name 'b'")
    with pytest.raises(TypeError, match="compile_file"):
        ccomp.compile_source(ROOT / "examples" / "heat.cn")


def test_the_three_entry_points_compile_the_same_program(tmp_path):
    path = tmp_path / "double.cn"
    path.write_text(DOUBLE + "\n")
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    for prog in (ccomp.compile(DOUBLE, cache=False), ccomp.compile(path, cache=False),
                 ccomp.compile_file(str(path), cache=False), ccomp.compile_source(DOUBLE, cache=False)):
        np.testing.assert_array_equal(prog(a), a * 2)


def test_text_is_checked_before_the_cache_key():
    """A lone surrogate once crashed the cache key with UnicodeEncodeError."""
    err = error_of(lambda: ccomp.compile(DOUBLE + " # \ud800"))
    assert str(err).startswith("<string>:1:59: error: a lone surrogate U+D800")


def test_file_and_string_give_the_same_diagnostic(tmp_path):
    text = "graph g(a: image<f32>) -> image<f32> { # c\r    return a\x00\r}\r"
    path = tmp_path / "t.cn"
    path.write_bytes(text.encode())
    from_file = error_of(lambda: ccomp.compile_file(path))
    from_text = error_of(lambda: ccomp.compile_source(text, name=str(path)))
    assert str(from_file) == str(from_text)
    assert str(from_file).startswith(f"{path}:2:13: error: the control character U+0000 (NUL)")
    clean = text.replace("\x00", "")
    path.write_bytes(clean.encode())
    assert load_source(path).text == load_source(clean).text == clean.replace("\r", "\n")


def test_package_exports():
    assert ccomp.compile_file is ccomp.api.compile_file and ccomp.compile_source is ccomp.api.compile_source
    assert {"compile_file", "compile_source"} <= set(ccomp.__all__) <= set(dir(ccomp))


def test_only_regular_files_of_bounded_size_are_read(tmp_path):
    """A FIFO would block and /dev/zero never end; both are refused before reading."""
    import os

    fifo = tmp_path / "p.cn"
    os.mkfifo(fifo)
    assert error_of(lambda: ccomp.compile_file(fifo)).message == f"'{fifo}' is not a regular file"
    assert error_of(lambda: ccomp.compile_file("/dev/zero")).message == "'/dev/zero' is not a regular file"
    assert "is a folder" in error_of(lambda: ccomp.compile_file(tmp_path)).message
    big = tmp_path / "big.cn"
    big.write_bytes(b"#" * ((16 << 20) + 1))
    assert error_of(lambda: ccomp.compile_file(big)).message == f"'{big}' is larger than 16 MiB, too large for a program"
    assert "longer than 16 Mi characters" in error_of(lambda: ccomp.compile_source("#" * ((16 << 20) + 1))).message
