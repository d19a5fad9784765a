"""``ccomp run`` for actor programs: messages from JSON Lines files in, replies out.

    ccomp run examples/stats.cn --send Samples=in.jsonl --replies out.jsonl --telemetry

Each line of a ``--send`` file is one message: a JSON object of its fields (a tensor is
a list of numbers), plus optional ``"@priority"`` (0-255), ``"@correlation_id"`` and
``"@to"`` (an actor or pipeline; default ``--to``, else the program's only pipeline or
the one actor that handles the type). Every line is read and checked before anything
runs: a bad one is an error at ``file:line:col`` with the line quoted, and the exit
code is 1. Every actor is launched, the messages are sent in file order, the actors are
terminated (draining their queues), and each reply becomes a line of ``--replies``
(default: stdout) with ``"@id"``, ``"@correlation_id"`` and ``"@priority"``; a failed
message becomes ``{"@correlation_id": ..., "@error": ...}`` and makes the exit code 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ccomp.diagnostics import CompileError, Source, SourceLoc

_ACTOR = re.compile(r"^\s*actor\s+\w+\s*\{", re.M)
_OTHER = re.compile(r"^\s*(graph|fn|network)\s+\w+", re.M)


def add_arguments(r: argparse.ArgumentParser) -> None:
    """The actor options of ``ccomp run`` (a hook in cli.py)."""
    g = r.add_argument_group("actor programs")
    g.add_argument("--send", action="append", default=[], metavar="TYPE=FILE.jsonl",
                   help="send the messages of FILE (JSON Lines, one message of type TYPE a line)")
    g.add_argument("--to", metavar="NAME", help="the actor or pipeline --send messages go to")
    g.add_argument("--replies", metavar="FILE.jsonl", help="write the replies as JSON Lines (default: stdout)")
    g.add_argument("--telemetry", action="store_true", help="print each actor's telemetry (JSON) after the run")


def wanted(args: argparse.Namespace) -> bool:
    """Whether ``ccomp run`` should run ``args.file`` as an actor program: an actor flag
    was given, or the file declares actors and nothing else runnable (a cheap look at
    the text; the compiler checks it properly)."""
    if args.send or args.replies or args.telemetry or args.to:
        return True
    if not args.file or getattr(args, "build", None):
        return False
    try:
        text = Path(args.file).read_text(errors="replace")
    except OSError:
        return False
    return bool(_ACTOR.search(text)) and not _OTHER.search(text)


def run(args: argparse.Namespace) -> int:
    import ccomp.actors

    if not args.file:
        raise CompileError("give the actor program (FILE)")
    rt = ccomp.actors.load(Path(args.file), target=args.target or "llvm")
    batches = [_read(rt, item, args.to) for item in args.send]
    out: TextIO = open(args.replies, "w") if args.replies else sys.stdout
    try:
        failed = asyncio.run(_drive(rt, batches, out))
    finally:
        if args.replies:
            out.close()
    if args.telemetry:
        report = {name: rt.telemetry(name) for name in rt.actors}
        print(json.dumps(report, indent=2), file=sys.stdout if args.replies else sys.stderr)
    if failed:
        print(f"error: {failed} message(s) failed (see the '@error' lines)", file=sys.stderr)
    return 1 if failed else 0


def _default_target(rt: Any, kind: str) -> str:
    if len(rt.pipelines) == 1:
        return next(iter(rt.pipelines))
    takers = [a.name for a in rt.actors.values() if kind in a.spec.handlers]
    if len(takers) == 1:
        return takers[0]
    raise CompileError(f"say where the {kind} messages go with --to (candidates: {', '.join(takers) or 'none'})")


def _read(rt: Any, item: str, to: str | None) -> list[tuple[str, Any, int, int | None, SourceLoc]]:
    """The checked messages of one ``TYPE=FILE`` (each a located error if bad)."""
    from ccomp.runtime.actors import ActorError, checks

    if "=" not in item:
        raise CompileError(f"--send expects TYPE=FILE.jsonl, got '{item}'")
    kind, path = (s.strip() for s in item.split("=", 1))
    if kind not in rt.codecs:
        raise CompileError(f"--send {item}: no message type '{kind}' (the program declares: {', '.join(rt.codecs)})")
    try:
        source = Source.from_path(path)
    except OSError as exc:
        raise CompileError(f"--send {item}: cannot read {path}: {exc.strerror or exc}") from None
    default = to or _default_target(rt, kind)
    out = []
    for number, line in enumerate(source.text.split("\n"), 1):
        if not line.strip():
            continue
        loc = SourceLoc(path, number, 1)
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CompileError(f"not valid JSON: {exc.msg}", SourceLoc(path, number, exc.colno), source) from None
        if not isinstance(obj, dict):
            raise CompileError(f"a message is a JSON object of its fields, got {type(obj).__name__}", loc, source)
        try:
            prio = obj.pop("@priority", 128)
            cid = obj.pop("@correlation_id", None)
            target = obj.pop("@to", default)
            rt.entries(target)
            msg = rt.message(kind, **obj)
            checks.priority(prio)
            checks.correlation(cid)
        except (ActorError, TypeError) as exc:
            raise CompileError(str(exc), loc, source) from None
        out.append((target, msg, prio, cid, loc))
    return out


async def send_all(rt: Any, names: list[str], batches: list) -> None:
    """Launch ``names`` and send every message read from the JSONL files, in file order; a
    message the runtime refuses is an error at its line (shared by the local and Ray runs)."""
    from ccomp.runtime.actors import ActorError

    for name in names:
        await rt.launch(name)
    for target, msg, prio, cid, loc in (m for b in batches for m in b):
        try:
            await rt.send(target, msg, priority=prio, correlation_id=cid)
        except ActorError as exc:
            raise CompileError(str(exc), loc) from None


async def _drive(rt: Any, batches: list, out: TextIO) -> int:
    from ccomp.runtime.actors import ActorError

    async with rt:
        await send_all(rt, list(rt.actors), batches)
    failed = 0
    for actor in rt.actors.values():
        while (got := actor.outbox.pop_one()) is not None:
            if isinstance(got, ActorError):
                failed += 1
                row = {"@actor": actor.name, "@correlation_id": got.correlation_id, "@error": got.error}
            else:
                row = {"@actor": actor.name, "@id": got.id, "@correlation_id": got.correlation_id,
                       "@priority": got.priority, **{k: _plain(v) for k, v in got.fields.items()}}
            out.write(json.dumps(row) + "\n")
    return failed


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
