"""``ccomp build --emit dot|svg`` as a user runs it: DOT on stdout, a real Graphviz
render where ``dot`` is installed, and a clean "how to install" message where not."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from cliutil import ROOT, assert_user_error, ccomp
from dotutil import parse_picture


def test_emit_dot_prints_a_picture_of_both_halves():
    res = ccomp("build", "examples/heat.cn", "--emit", "dot", "-t", "glsl")
    assert res.returncode == 0, res.stderr
    pic = parse_picture(res.stdout)
    assert [c.label for c in pic.root.children] == ["graph (examples/heat.cn)", "schedule (-t glsl)"]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed on this machine")
def test_emit_svg_renders_with_graphviz():
    res = ccomp("build", "examples/heat.cn", "--emit", "svg")
    assert res.returncode == 0, res.stderr
    svg = ET.fromstring(res.stdout[res.stdout.index("<svg"):])
    assert svg.tag.endswith("svg")
    texts = {t.text for t in svg.iter() if t.tag.endswith("text")}
    assert {"kernel heat_0", "fusion group 0: one kernel", "host loop (scf.for)", "swap"} <= texts


def test_emit_svg_without_graphviz_says_how_to_install(tmp_path):
    # a PATH that holds no 'dot': the interpreter is called by its full path
    env = {**os.environ, "PATH": str(tmp_path)}
    res = subprocess.run([sys.executable, "-m", "ccomp.driver.cli", "build", "examples/heat.cn", "--emit", "svg"],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert_user_error(res, "--emit svg needs Graphviz's 'dot' program", "apt-get install graphviz",
                      "'--emit dot' prints the DOT text without it")
    assert res.stdout == ""


def test_emit_dot_of_a_wrong_program_is_a_located_error(tmp_path):
    bad = tmp_path / "bad.cn"
    bad.write_text("graph g(a: image<f32>) -> image<f32> {\n    return a + nope\n}\n")
    res = ccomp("build", str(bad), "--emit", "dot")
    assert_user_error(res, "bad.cn:2:", "nope")
