"""The frontend never throws anything but a located ``CompileError`` and never hangs
(issue 15): literals of any length, any characters in the text, long runs of
digits and size-like tokens, and sizes that once made compile time grow."""

from __future__ import annotations

import pytest

from ccomp.diagnostics import Source
from ccomp.driver.pipeline import lower
from ccomp.frontend import lower_to_l1, parse

from frontendutil import LOCATED, compile_error, compile_l1, printed

BIG = "1" * 5000  # past Python's 4300-digit int() limit


def graph(body: str, params: str = "a: image<f32>", result: str = "image<f32>") -> str:
    return f"graph g({params}) -> {result} {{\n    return {body}\n}}\n"


@pytest.mark.parametrize("text, message, line, at", [
    (graph(f"a * {BIG}"), "integer literal 111111111111...1111 (5000 characters) is too large for any type", 2, BIG),
    (graph("a", f"a: image<f32>, n: i32 = {BIG}"), "is too large for any type", 1, BIG),
    (graph("a", f"a: image<f32>, n: f64 = -{'9' * 400}"), "is too large for any type", 1, "999"),
    (graph("a", f"a: image<f32, {BIG}x4>"), "size 111111111111...1111 (5000 characters) is too large "
                                            "(at most 2147483647)", 1, BIG),
    (f"fn f(A: tensor<{BIG}xf32>) -> tensor<?xf32> {{\n    return A\n}}\n", "tensor size", 1, BIG),
    ("fn f(A: tensor<?x?xf32, csr>) -> tensor<?x?xf32> {\n"
     f"    return to(to(A, bsr({BIG}x2)), dense)\n}}\n", "block size", 2, "bsr"),
    (graph(f"a * {BIG}.0"), "float literal 111111111111...11.0 (5002 characters) does not fit in f32", 2, BIG),
    (graph(f"a * 1e{BIG}"), "float literal 1e1111111111...1111 (5002 characters) does not fit in f32", 2, "1e"),
    (graph("a * 2147483648"), "integer literal 2147483648 does not fit in i32", 2, "2147483648"),
])
def test_out_of_range_literals_are_located_errors(text, message, line, at):
    err = compile_error(text)
    assert message in err.message
    m = LOCATED.match(str(err))
    assert m and (int(m["line"]), int(m["col"])) == (line, text.splitlines()[line - 1].index(at) + 1)


def test_literals_beside_wide_values_range_check_without_overflow():
    # 309 digits: past a double's range, where float() of the int raises OverflowError
    too_big = "2" * 309
    err = compile_error(graph(f"a * {too_big}", "a: image<f64>", "image<f64>"))
    assert "does not fit in f64" in err.message
    err = compile_error(graph("a", f"a: image<f32>, k: f64 = {too_big}"))
    assert "the default of 'k' does not fit in f64" in err.message
    err = compile_error(graph("a", f"a: image<f32>, k: f32 = {too_big}"))
    assert "the default of 'k' does not fit in f32" in err.message
    # a 300-digit integer is a fine f64
    compile_l1(graph(f"a * 1{'0' * 299}", "a: image<f64>", "image<f64>"))


@pytest.mark.parametrize("run", [
    "1" * 200_000,                 # the QUANTITY token took 25 s on 32 KB of these
    "1" * 200_000 + "ms",
    "1x" * 100_000 + "-",
    "1x" * 100_000 + "q",
    "?x" * 100_000 + "-",
    "1." * 100_000,
    "1e" * 100_000,
    "." + "1" * 200_000 + "e",
    "a" * 200_000,
    "\"" + "a" * 200_000,
    "# " + "x" * 200_000,
])
def test_long_runs_lex_in_linear_time(run):
    """No timing assertion: a quadratic token on 200 KB takes on the order of an hour,
    so a regression shows as this test never finishing (the fuzz watchdog bounds it)."""
    try:
        parse(Source(graph(run), "t.cn"))
    except Exception as exc:  # only located CompileErrors
        assert LOCATED.match(str(exc)), str(exc)[:200]


def test_bsr_packing_does_not_unroll_with_the_block_size():
    """to(A, bsr(RxC)) once unrolled R*C stores at compile time (64x64: 65 s); the
    emitted kernels are now the same size whatever the block."""
    def kern_ops(block: str) -> int:
        text = ("fn f(A: tensor<?x?xf32, csr>) -> tensor<?x?xf32> {\n"
                f"    return to(to(A, bsr({block})), dense)\n}}\n")
        module = lower(lower_to_l1(Source(text, "t.cn")), "kern")
        return sum(1 for _ in module.walk())
    assert kern_ops("2x2") == kern_ops("64x64") == kern_ops("100000x100000")


# ----- the characters of the text -------------------------------------------------


@pytest.mark.parametrize("ch, what", [
    ("\ud800", "a lone surrogate U+D800 is not a character"),
    ("\x00", "the control character U+0000 (NUL) is not allowed"),
    ("\x1b", "the control character U+001B (ESC) is not allowed"),
    ("\x85", "the control character U+0085 is not allowed"),
    ("\u202e", "the bidirectional control U+202E is not allowed"),
])
def test_forbidden_characters_are_located_even_in_comments(ch, what):
    text = f"graph g(a: image<f32>) -> image<f32> {{\n    return a  # ok {ch}[31m\n}}\n"
    err = compile_error(text)
    assert what in err.message
    head, quoted, caret = str(err).splitlines()[:3]
    assert head.startswith("t.cn:2:20: error: ")
    assert ch not in str(err) and "\\" in quoted  # shown escaped ...
    assert caret.index("^") == quoted.index("\\")  # ... with the caret under the escape
    str(err).encode("utf-8")  # printable: no surrogate survives into the message


def test_newlines_are_normalised_the_same_from_files_and_strings(tmp_path):
    """A lone \\r ends a comment (and a line) in a string as in a file."""
    body = "graph g(a: image<f32>) -> image<f32> {  # one\r    return a * 2.0 # two\r\n}\r"
    path = tmp_path / "p.cn"
    path.write_bytes(body.encode())
    from_file, from_text = Source.from_path(path), Source(body, str(path))
    assert from_file.text == from_text.text == body.replace("\r\n", "\n").replace("\r", "\n")
    assert printed(lower_to_l1(from_file)) == printed(lower_to_l1(from_text))
    err = compile_error("graph g(a: image<f32>) -> image<f32> {\r    return b\r}\r")
    assert str(err).splitlines()[:3] == ["t.cn:2:12: error: unknown name 'b'", "        return b",
                                         "               ^"]


def test_invalid_utf8_in_a_file_is_located(tmp_path):
    path = tmp_path / "p.cn"
    path.write_bytes(b"graph g(a: image<f32>) -> image<f32> {\n    return a # \xed\xa0\x80\n}\n")
    err = compile_error_of(lambda: Source.from_path(path))
    assert str(err).startswith(f"{path}:2:16: error: invalid UTF-8 byte 0xED")


def compile_error_of(make):
    from ccomp import CompileError
    with pytest.raises(CompileError) as info:
        make()
    return info.value


# ----- how diagnostics show a line --------------------------------------------------


def test_caret_lines_up_under_wide_characters_and_tabs():
    err = compile_error("graph g(a: image<f32>) -> image<f32> {\n\t# 画像\n\treturn 画 + a\n}\n")
    _, quoted, caret = str(err).splitlines()[:3]
    assert quoted == "        return 画 + a"
    assert caret == "    " + " " * 11 + "^"  # under 画 (tab: 4 columns)


def test_a_long_line_is_quoted_around_the_caret():
    lets = "".join(f"let c{i} = a " for i in range(2000))
    text = f"graph g(a: image<f32>) -> image<f32> {{ {lets}return b # {'x' * 5000}\n}}\n"
    err = compile_error(text)
    _, quoted, caret = str(err).splitlines()[:3]
    assert len(quoted) < 200 and quoted.startswith("    ...") and quoted.endswith("...")
    assert quoted[caret.index("^") - 7:caret.index("^") + 1] == "return b"


# ----- found by tools/fuzz.py -----------------------------------------------------


@pytest.mark.parametrize("shape, message", [
    ("?xaxf32", "tensors hold f32, f64, i32, i64, not axf32"),  # was ValueError
    ("99999999999xaxf32", "tensor size 99999999999 is too large (at most 2147483647)"),
])
def test_shapes_whose_element_type_holds_an_x(shape, message):
    err = compile_error(f"fn f(A: tensor<{shape}>) -> tensor<?xf32> {{\n    return A\n}}\n")
    assert err.message == message and str(err).startswith("t.cn:1:16: error: ")


def test_a_no_break_space_is_shown_escaped():
    err = compile_error("graph g(a: image<f32>) -> image<f32> {\n    return a\u00a0* 2.0\n}\n")
    head, quoted, caret = str(err).splitlines()[:3]
    assert head == "t.cn:2:13: error: unexpected character '\\xa0'"
    assert quoted == "        return a\\xa0* 2.0" and caret.index("^") == quoted.index("\\xa0")
