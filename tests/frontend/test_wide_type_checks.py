"""f64 and i64 in the frontend: which programs type, what literals become, and the
located errors for what the language refuses."""

from __future__ import annotations

import pytest

from frontendutil import compile_error, compile_l1, printed


def _graph(params: str, result: str, body: str) -> str:
    return f"graph g({params}) -> {result} {{\n    return {body}\n}}\n"


@pytest.mark.parametrize("params, result, body, expect", [
    ("a: image<f64>", "image<f64>", "a * 0.1", "arith.constant 1.000000e-01 : f64"),
    ("a: image<f64>", "image<f64>", "a + f32(x)", "arith.extf"),
    ("a: image<i64>", "image<i64>", "a * 3000000000", "arith.constant 3000000000 : i64"),
    ("a: image<i64>", "image<f64>", "sqrt(a)", ": i64 to f64"),
    ("a: image<i64>", "image<i32>", "i32(a)", "arith.trunci"),
    ("a: image<f64>", "image<f32>", "f32(a)", "arith.truncf"),
    ("a: image<f32>", "image<f64>", "f64(0.1) + a", "arith.constant 1.000000e-01 : f64"),
    ("a: image<f32>", "image<f64>", "f64(a)", "arith.extf"),
    ("k: i64 = -9223372036854775808", "i64", "k", "graph.default = -9223372036854775808 : i64"),
    ("k: f64 = 1e300", "f64", "k", "graph.default = 1.000000e+300 : f64"),
    ("k: f32", "f64", "k", "arith.extf"),
    ("k: i32", "i64", "k", "arith.extsi"),
])
def test_types(params, result, body, expect):
    text = printed(compile_l1(_graph(params, result, body)))
    assert expect in text


def test_32_bit_programs_keep_32_bit_literals():
    text = printed(compile_l1(_graph("a: image<f32>", "image<f32>", "a * 0.1 + 2")))
    assert "f64" not in text and "i64" not in text


@pytest.mark.parametrize("params, result, body, message, col", [
    ("a: image<f64>", "image<f32>", "a", "expected image<f32>, got image<f64>", 12),
    ("k: f64", "f32", "k", "expected f32, got f64", 12),
    ("k: i64", "i32", "k", "expected i32, got i64", 12),
    ("k: f64", "i64", "k", "expected i64, got f64", 12),
    ("a: image<vec4>, k: f64", "image<vec4>", "a * k", "cannot apply '*' to vec4 and f64: vectors have 32-bit "
                                                        "lanes, f64 does not combine with them; convert it with "
                                                        "f32() or i32()", 14),
    ("a: image<i64>", "image<i64>", "a + 9223372036854775808", "integer literal 9223372036854775808 does not "
                                                                "fit in i64", 16),
    ("k: i64 = 9223372036854775808", "i64", "k", "the default of 'k' does not fit in i64", 18),
    ("a: image<f32>", "image<f32>", "a + 3000000000", "integer literal 3000000000 does not fit in i32", 16),
])
def test_errors(params, result, body, message, col):
    err = compile_error(_graph(params, result, body))
    assert err.message == message
    assert err.diagnostic.loc is not None and err.diagnostic.loc.col == col


def test_fn_programs_do_not_narrow_a_promoted_tensor_implicitly():
    """An f64 scalar promotes an f32 tensor expression to f64 (as for scalars); handing
    that to an f32 result would narrow it, so it is refused, located at the value."""
    err = compile_error("fn f(v: tensor<?xf32>, k: f64) -> tensor<?xf32> {\n    return v * k\n}\n")
    assert "expected tensor<?xf32>, got tensor<?xf64>" in err.message and "f32(...)" in err.message
    assert err.diagnostic.loc.line == 2 and err.diagnostic.loc.col == 14


def test_double_suggests_f64():
    err = compile_error(_graph("k: double", "f32", "k"))
    assert err.message == "unknown type 'double'; did you mean 'f64'?"
