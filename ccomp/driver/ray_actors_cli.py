"""``ccomp run p.cn --on ray [--send TYPE=FILE.jsonl ...]``: an actor program with each
actor in a Ray actor process. Messages, replies and telemetry are as in
:mod:`ccomp.driver.actor_cli` (JSON Lines in, JSON Lines out, located errors for bad
lines); a Ray instance started for the run is shut down after it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from ccomp.diagnostics import CompileError


def run(args: argparse.Namespace, address: str | None) -> int:
    from ccomp.driver import actor_cli
    from ccomp.driver.ray_actors import load_on_ray
    from ccomp.runtime.scaleout.ray_env import connected

    if not args.file:
        raise CompileError("give the actor program (FILE)")
    with connected(address):
        rt = load_on_ray(Path(args.file), args.target or "llvm", address=address)
        batches = [actor_cli._read(rt, item, args.to or _default_target(rt, item)) for item in args.send]
        out: TextIO = open(args.replies, "w") if args.replies else sys.stdout
        try:
            failed, telemetry = asyncio.run(_drive(rt, batches, out))
        finally:
            if args.replies:
                out.close()
    if args.telemetry:
        print(json.dumps(telemetry, indent=2, default=str), file=sys.stdout if args.replies else sys.stderr)
    if failed:
        print(f"error: {failed} message(s) failed (see the '@error' lines)", file=sys.stderr)
    return 1 if failed else 0


def _default_target(rt: Any, item: str) -> str:
    kind = item.split("=", 1)[0].strip()
    if len(rt.pipelines) == 1:
        return next(iter(rt.pipelines))
    takers = [name for name, spec in rt.actors.items() if kind in spec.handlers]
    if len(takers) == 1:
        return takers[0]
    raise CompileError(f"say where the {kind} messages go with --to (candidates: {', '.join(takers) or 'none'})")


async def _drive(rt: Any, batches: list, out: TextIO) -> tuple[int, dict]:
    from ccomp.driver.actor_cli import _plain, send_all
    from ccomp.runtime.actors.messages import row_message

    names = list(rt.pipelines) or list(rt.actors)
    await send_all(rt, names, batches)
    await rt.close()
    telemetry = {n: rt.telemetry(n) for n in names}
    failed = 0
    while True:
        try:
            got = await rt.receive_many(names[0], timeout=0)
        except TimeoutError:
            break
        for f in got.failures:
            failed += 1
            out.write(json.dumps({"@actor": f.actor, "@correlation_id": f.correlation_id, "@error": f.error}) + "\n")
        for i in range(len(got)):
            row = {"@id": int(got.ids[i]), "@correlation_id": int(got.correlation_ids[i]),
                   "@priority": int(got.priorities[i]),
                   **{k: _plain(v) for k, v in row_message(got.batch, i).items()}}
            out.write(json.dumps(row) + "\n")
    return failed, telemetry
