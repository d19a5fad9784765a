"""Pictures of a program: ``ccomp build --emit dot`` and ``--emit svg``.

One Graphviz digraph with two top-level clusters: the **graph** (the L1 program as
the frontend wrote it: nodes, fusion groups as clusters, captures, repeat loops as
clusters; :mod:`ccomp.driver.dot_graph`) and the **schedule** (the host function of
the ``kern`` stage: kernel launches, buffers, host loops as clusters, ping-pong swaps;
:mod:`ccomp.driver.dot_schedule`). One digraph rather than two, so ``dot -Tsvg``
renders both into one picture.

The DOT text is written by the small emitter :class:`Dot` below rather than by the
``graphviz`` PyPI package: that package only writes text too (rendering needs the
``dot`` binary either way), DOT's quoting rules fit in one function, and a runtime
dependency for forty lines would be one more thing for every user to install.
Rendering (``--emit svg``) runs the ``dot`` binary; where it is missing the user gets
a :class:`CompileError` saying how to install Graphviz, never a traceback.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import subprocess
from collections.abc import Iterator

from ccomp.diagnostics import CompileError

PICTURES = ("dot", "svg")
"""``--emit`` values that draw the program instead of printing a stage."""

INSTALL_HINT = ("install Graphviz to render pictures: 'sudo apt-get install graphviz' (Debian/Ubuntu), "
                "'brew install graphviz' (macOS), 'conda install graphviz', or see https://graphviz.org/download/; "
                "'--emit dot' prints the DOT text without it")


def quote(text: str) -> str:
    """``text`` as a DOT double-quoted string (``\\n`` becomes a centred line break)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(attrs: dict[str, str]) -> str:
    return "" if not attrs else " [" + ", ".join(f"{k}={quote(v)}" for k, v in attrs.items()) + "]"


class Dot:
    """A DOT digraph under construction: nodes and clusters nest as they are opened,
    edges are collected and written last (at top level, so an edge never pulls a node
    into the cluster that happens to be open)."""

    def __init__(self, name: str):
        self.lines = [f"digraph {quote(name)} {{", "  compound=true;", "  rankdir=TB;",
                      '  node [fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=9];']
        self.edges: list[str] = []
        self.depth = 1
        self._ids = itertools.count()

    def fresh(self, prefix: str) -> str:
        """A node id not used before (DOT ids need no meaning, only uniqueness)."""
        return f"{prefix}{next(self._ids)}"

    def node(self, node_id: str, label: str, **attrs: str) -> str:
        self.lines.append("  " * self.depth + quote(node_id) + _attrs({"label": label, **attrs}) + ";")
        return node_id

    def edge(self, tail: str, head: str, **attrs: str) -> None:
        self.edges.append(f"  {quote(tail)} -> {quote(head)}{_attrs(attrs)};")

    @contextlib.contextmanager
    def cluster(self, label: str, **attrs: str) -> Iterator[str]:
        """A ``subgraph cluster_*``: Graphviz draws a box around what is emitted inside."""
        cid = self.fresh("cluster_")
        pad = "  " * self.depth
        self.lines.append(f"{pad}subgraph {quote(cid)} {{")
        self.lines.append(f"{pad}  label={quote(label)};")
        for key, value in attrs.items():
            self.lines.append(f"{pad}  {key}={quote(value)};")
        self.depth += 1
        try:
            yield cid
        finally:
            self.depth -= 1
            self.lines.append(f"{pad}}}")

    def text(self) -> str:
        return "\n".join(self.lines + self.edges + ["}"]) + "\n"


def program_dot(source, target: str, function: str | None = None) -> str:
    """The DOT picture of ``source`` compiled for ``target``: its L1 graph with the
    fusion groups ``graph-fuse``/``graph-schedule`` chose, and the ``kern`` stage's
    host schedule. ``function`` limits both to one graph or fn (default: all)."""
    from ccomp.driver.dot_graph import draw_graph, fusion_groups, mark_sinks
    from ccomp.driver.dot_schedule import draw_schedule
    from ccomp.driver.pipeline import run_passes, stage_specs
    from ccomp.frontend import lower_to_l1

    l1 = lower_to_l1(source)
    mark_sinks(l1)
    names = [op.sym_name.data for op in l1.body.block.ops if hasattr(op, "sym_name")]
    if function is not None and function not in names:
        raise CompileError(f"no graph or fn named '{function}' in {source.name}; it has {', '.join(names)}")
    lowered = l1.clone()
    groups = None
    for stage, spec in stage_specs(target, "kern"):
        run_passes(lowered, spec)
        if stage == "fused":
            groups = fusion_groups(lowered)
    dot = Dot(source.name)
    with dot.cluster(f"graph ({source.name})", style="rounded"):
        draw_graph(dot, l1, groups or {}, function)
    with dot.cluster(f"schedule (-t {target})", style="rounded"):
        draw_schedule(dot, lowered, function)
    return dot.text()


def render_svg(dot_text: str) -> str:
    """``dot_text`` rendered by Graphviz's ``dot`` binary; a clean error saying how to
    install Graphviz where it is missing."""
    exe = shutil.which("dot")
    if exe is None:
        raise CompileError(f"--emit svg needs Graphviz's 'dot' program, which is not installed; {INSTALL_HINT}")
    try:
        done = subprocess.run([exe, "-Tsvg"], input=dot_text, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise CompileError("Graphviz's 'dot' did not finish rendering within 120 s") from None
    if done.returncode != 0:
        raise CompileError(f"Graphviz's 'dot' failed to render the picture: {done.stderr.strip()}")
    return done.stdout


def draw(file: str | None, target: str, function: str | None, emit: str) -> int:
    """``ccomp build FILE --emit dot|svg``: print the picture (rendered for ``svg``)."""
    import sys
    from pathlib import Path

    from ccomp.api import load_source

    if file is None:
        raise CompileError(f"--emit {emit} draws a program: give its FILE")
    text = program_dot(load_source(Path(file)), target, function)
    sys.stdout.write(render_svg(text) if emit == "svg" else text)
    return 0
