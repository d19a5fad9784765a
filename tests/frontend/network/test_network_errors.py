"""Bad network programs and weights: every mistake is a located error at the right
place (file:line:col, the source line, a caret), never a traceback or silent output."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

import ccomp
from ccomp import CompileError
from ccomp.diagnostics import Source
from ccomp.frontend import lower_to_l1

HEAD = "network n(x: tensor<8xf32>) -> tensor<4xi32> steps 10 dt 1ms {\n"


def net(body: str, head: str = HEAD) -> str:
    return head + body + "}\n"


def error(text: str, folder: Path) -> str:
    path = folder / "p.cn"
    path.write_text(text)
    with pytest.raises(CompileError) as info:
        lower_to_l1(Source(text, str(path)))
    message = str(info.value)
    assert message.startswith(f"{path}:"), message
    lines = message.splitlines()
    assert len(lines) >= 3 and lines[-1].strip() == "^", message  # the source line and a caret
    return message[len(str(path)) + 1:]


GOOD_LAYER = "    layer h = lif(4, tau: 10ms) <- s weights W\n"
W_HEAD = "network n(x: tensor<8xf32>, W: tensor<8x4xf32>) -> tensor<4xi32> steps 10 dt 1ms {\n"


@pytest.mark.parametrize("body,head,where,message", [  # where: the text the caret is under
    ("    input s = poisson(x, max_rate: 100Hz)\n    layer h = lif(4, tau: 10) <- s weights W\n"
     "    return spike_count(h)\n", W_HEAD, "10)", "tau needs a time, e.g. 10ms"),
    ("    input s = poisson(x, max_rate: 100Hz)\n    layer h = lif(4, tau: 10ms, v_th: 1ms) <- s weights W\n"
     "    return spike_count(h)\n", W_HEAD, "1ms)", "v_th takes a plain number, not a time"),
    ("    input s = poisson(x, max_rate: 10ms)\n" + GOOD_LAYER + "    return spike_count(h)\n", W_HEAD, "10ms)",
     "max_rate needs a rate, e.g. 100Hz, not a time"),
    ("    input s = poisson(x, max_rate: 100Hz)\n" + GOOD_LAYER + "    learn stdp(h -> q, a_plus: 0.01, a_minus: 0.01, "
     "tau_plus: 20ms, tau_minus: 20ms)\n    return spike_count(h)\n", W_HEAD, "q,", "unknown layer 'q' in learn"),
    ("    input s = poisson(x, max_rate: 100Hz)\n    layer h = lif(4, tau: 10ms) <- s weights W\n"
     "    return spike_count(h)\n", W_HEAD.replace("8x4", "8x5"), "W\n", "must be 8x4 (sources x targets)"),
    ("    input s = poisson(x, max_rate: 100Hz)\n" + GOOD_LAYER + "    return spike_count(h)\n",
     W_HEAD.replace("dt 1ms", "dt 0ms"), "0ms", "dt must be positive"),
    ("    input s = poisson(x, max_rate: 100Hz)\n" + GOOD_LAYER + "    return spike_count(h)\n",
     W_HEAD.replace("steps 10", "steps -3"), "-3", "steps must not be negative, got -3"),
    ("    input s = poisson(x, max_rate: 100Hz)\n" + GOOD_LAYER + "    return spike_count(h)\n",
     W_HEAD.replace("dt 1ms", "dt 1"), "1 {", "dt needs a time, e.g. 10ms"),
    ("    input s = poisson(x, max_rate: 100Hz)\n    layer h = lif(4, tau: 10ms, bogus: 1) <- s weights W\n"
     "    return spike_count(h)\n", W_HEAD, "bogus", "lif() has no argument 'bogus'"),
    ("    input s = poison(x, max_rate: 100Hz)\n" + GOOD_LAYER + "    return spike_count(h)\n", W_HEAD, "poison(",
     "unknown input encoder 'poison'; did you mean 'poisson'?"),
    ("    input s = poisson(x, max_rate: 100Hz)\n" + GOOD_LAYER + "    return spike_count(h)\n",
     W_HEAD.replace("tensor<4xi32>", "tensor<5xi32>"), "spike_count", "this output is tensor<4xi32>"),
    ("    input s = poisson(x, max_rate: 100Hz)\n    layer h = lif(4, tau: 10ms) <- s weights W delay: 1ms\n"
     "    learn stdp(s -> h, a_plus: 0.01, a_minus: 0.01, tau_plus: 20ms, tau_minus: 20ms)\n"
     "    return spike_count(h)\n", W_HEAD, "learn", "has a delay; a delayed connection cannot learn"),
    ("    input s = poisson(x, max_rate: 100Hz)\n    layer h = lif(4, tau: 10ms) <- z weights W\n"
     "    return spike_count(h)\n", W_HEAD, "<- z", "unknown layer or input 'z'"),
])
def test_located_errors(tmp_path, body, head, where, message):
    text = net(body, head)
    at = text.index(where)  # the caret points at the first occurrence of `where`
    line = text.count("\n", 0, at) + 1
    where = f"{line}:{at - (text.rfind(chr(10), 0, at) + 1) + 1}"
    got = error(text, tmp_path)
    assert got.startswith(f"{where}: error: "), got
    assert message in got.splitlines()[0], got


BODY = "    input s = poisson(x, max_rate: 100Hz)\n    layer h = lif(4, tau: 10ms) <- s weights \"w.{ext}\"\n" \
       "    return spike_count(h)\n"


def file_error(tmp_path: Path, ext: str = "npy") -> str:
    return error(net(BODY.format(ext=ext)), tmp_path)


def test_missing_weights_file(tmp_path):
    assert "3:46: error: weights file 'w.npy' does not exist" in file_error(tmp_path)


def test_pickled_weights_file_is_refused_without_running_it(tmp_path):
    np.save(tmp_path / "w.npy", np.array([{"a": 1}] * 32, dtype=object).reshape(8, 4), allow_pickle=True)
    assert "holds Python objects (a pickle)" in file_error(tmp_path)
    (tmp_path / "w.npz").write_bytes(pickle.dumps({"x": 1}))  # a bare pickle, named .npz
    assert "holds Python objects (a pickle)" in file_error(tmp_path, "npz")
    (tmp_path / "w.npz").write_bytes(b"PK\x03\x04 not really a zip")
    assert "cannot be read" in file_error(tmp_path, "npz")


def test_nan_weights(tmp_path):
    w = np.zeros((8, 4), np.float32)
    w[2, 1] = np.nan
    np.save(tmp_path / "w.npy", w)
    assert "3:46: error: weights file 'w.npy' holds 1 NaN or infinite value" in file_error(tmp_path)


def test_weights_file_of_the_wrong_shape(tmp_path):
    np.save(tmp_path / "w.npy", np.zeros((4, 8), np.float32))
    assert "must be 8x4 (sources x targets), but 'w.npy' holds 4x8" in file_error(tmp_path)


def test_weights_outside_the_program_folder(tmp_path):
    inner = tmp_path / "prog"
    inner.mkdir()
    np.save(tmp_path / "w.npy", np.zeros((8, 4), np.float32))
    text = net(BODY.format(ext="npy").replace('"w.npy"', '"../w.npy"'))
    assert "is outside the program's folder" in error(text, inner)


def test_file_weights_run_and_can_be_replaced(tmp_path):
    w = np.full((8, 4), 6.0, np.float32)
    np.save(tmp_path / "w.npy", w)
    path = tmp_path / "p.cn"
    path.write_text(net(BODY.format(ext="npy")))
    prog = ccomp.compile_file(path, cache=False)
    x = np.ones(8, np.float32)
    counts = prog(x=x)
    assert counts.sum() > 0
    assert prog(x=x, w=np.zeros((8, 4), np.float32)).sum() == 0  # the file's input, given by the caller
    with pytest.raises(CompileError, match=r"input 'w' is declared tensor<8x4xf32>: its shape must be \(8, 4\)"):
        prog(x=x, w=np.zeros((4, 8), np.float32))


def test_negative_steps_at_run_time_is_a_located_error(tmp_path):
    text = net("    input s = poisson(x, max_rate: 100Hz)\n" + GOOD_LAYER + "    return spike_count(h)\n",
               W_HEAD.replace("W: tensor<8x4xf32>)", "W: tensor<8x4xf32>, k: i32 = 5)").replace("steps 10", "steps k"))
    prog = ccomp.compile(text, cache=False)
    x, w = np.ones(8, np.float32), np.full((8, 4), 0.6, np.float32)
    assert prog(x=x, W=w, k=0).sum() == 0
    with pytest.raises(CompileError, match="steps must not be negative, got -2"):
        prog(x=x, W=w, k=-2)
