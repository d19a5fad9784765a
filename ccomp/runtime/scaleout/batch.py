"""Batch runs: one compiled program over many inputs, in this process or as Ray tasks.

The build is compiled once, by the caller; workers get its build folder as bytes (a
tar archive put once in Ray's object store) and load it once per process, caching the
loaded program under the archive's hash — a task never compiles. Items travel in
chunks (a task per chunk) so the per-task overhead is paid a few times per worker,
not once per input. Each item is run on its own: an input the program refuses fails
that item with the program's located diagnostic, and the rest go on.

The runtime may not import the compiler's face, so the caller passes ``loader`` (a
function from a build folder to a callable program, ``ccomp.api.load``); Ray ships it
by reference.
"""

from __future__ import annotations

import hashlib
import io
import logging
import tarfile
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ccomp.diagnostics import CompileError

log = logging.getLogger(__name__)

Loader = Callable[[Path], Any]
Report = Callable[[int, int], Any]


@dataclass
class MapResult:
    """What a batch run gave: ``results[i]`` is item ``i``'s outputs (None if it failed),
    ``failures`` maps a failed item's index to its error text, ``workers`` the processes
    that ran items (pids, for the record)."""

    results: list[Any]
    failures: dict[int, str] = field(default_factory=dict)
    workers: set[int] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self, names: Sequence[str] | None = None, shown: int = 10) -> str:
        """One line of counts, then one line per failed item (the first ``shown``)."""
        n, bad = len(self.results), len(self.failures)
        lines = [f"{n - bad} of {n} item(s) ran, {bad} failed"]
        for i in sorted(self.failures)[:shown]:
            label = names[i] if names is not None else f"item {i}"
            lines.append(f"  {label}: {self.failures[i]}")
        if bad > shown:
            lines.append(f"  ... and {bad - shown} more")
        return "\n".join(lines)


def pack_folder(folder: Path) -> bytes:
    """The files of a build folder as one tar archive (what the workers unpack)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for p in sorted(Path(folder).rglob("*")):
            if p.is_file():
                tar.add(p, arcname=str(p.relative_to(folder)))
    return buf.getvalue()


_PROGRAMS: dict[str, Any] = {}  # per process: archive hash -> loaded program
_FOLDERS: list[tempfile.TemporaryDirectory] = []


def program_for(archive: bytes, loader: Loader) -> Any:
    """The program of ``archive``, loaded on this process's first use and kept."""
    key = hashlib.sha256(archive).hexdigest()
    prog = _PROGRAMS.get(key)
    if prog is None:
        tmp = tempfile.TemporaryDirectory(prefix="ccomp-map-")
        _FOLDERS.append(tmp)
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r") as tar:
            tar.extractall(tmp.name, filter="data")
        prog = loader(Path(tmp.name))
        _PROGRAMS[key] = prog
        log.info("worker loaded build %s", key[:12])
    return prog


def loads_in_this_process() -> int:
    """How many builds this process has loaded (tests: once per worker, never per task)."""
    return len(_PROGRAMS)


def plain_outputs(prog: Any, value: Any) -> Any:
    """A call's outputs as plain data (a program's namedtuple class lives only where it
    was made): the value for one output, else a dict by output name."""
    names = [p.name for p in prog.outputs]
    if len(names) == 1:
        return value
    return dict(zip(names, value))


def run_item(prog: Any, kwargs: dict) -> tuple[Any, str | None]:
    """One item: (outputs, None) or (None, the error a user can read)."""
    try:
        return plain_outputs(prog, prog(**kwargs)), None
    except CompileError as exc:
        return None, str(exc)
    except Exception as exc:  # a bug, not a bad input: keep where it came from
        log.debug("item failed:\n%s", traceback.format_exc())
        return None, f"{type(exc).__name__}: {exc}"


def run_chunk(archive: bytes, loader: Loader, chunk: list[tuple[int, dict]]) -> tuple[int, list]:
    """A worker's task: the items of ``chunk`` as (index, outputs, error), and its pid."""
    import os

    try:
        prog = program_for(archive, loader)
    except CompileError as exc:
        return os.getpid(), [(i, None, f"the build could not be loaded on this worker: {exc}") for i, _ in chunk]
    return os.getpid(), [(i, *run_item(prog, kw)) for i, kw in chunk]


def chunks(items: Sequence[dict], size: int) -> list[list[tuple[int, dict]]]:
    numbered = list(enumerate(items))
    return [numbered[k:k + size] for k in range(0, len(numbered), size)]


def map_local(prog: Any, items: Sequence[dict], report: Report | None = None) -> MapResult:
    """Every item through ``prog`` in this process, one after another."""
    import os

    out = MapResult([None] * len(items), workers={os.getpid()})
    for i, kw in enumerate(items):
        out.results[i], err = run_item(prog, kw)
        if err is not None:
            out.failures[i] = err
        if report is not None:
            report(i + 1, len(items))
    return out


def map_ray(archive: bytes, loader: Loader, items: Sequence[dict], chunk_size: int,
            report: Report | None = None) -> MapResult:
    """Every item as part of a Ray task (Ray must be connected): the archive is put in
    the object store once and every task reads it from there."""
    from ccomp.runtime.scaleout.ray_env import require_ray

    ray = require_ray()
    task = ray.remote(run_chunk).options(max_retries=2)
    ref = ray.put(archive)
    pending = {}
    for part in chunks(items, max(1, chunk_size)):
        pending[task.remote(ref, loader, part)] = [i for i, _ in part]
    out = MapResult([None] * len(items))
    done = 0
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for r in ready:
            indices = pending.pop(r)
            try:
                pid, rows = ray.get(r)
                out.workers.add(pid)
            except Exception as exc:  # the task itself died (its worker lost past the retries)
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                rows = [(i, None, f"its Ray task failed: {first}") for i in indices]
            count = len(indices)
            for i, value, err in rows:
                out.results[i] = value
                if err is not None:
                    out.failures[i] = err
            done += count
            if report is not None:
                report(done, len(items))
    return out
