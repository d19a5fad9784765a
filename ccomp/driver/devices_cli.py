"""``ccomp devices [--measure] [--profiles FILE]``: the devices found and their measured
profiles, and where the profiles of this machine are kept.

Profiles live in the user cache (``platformdirs.user_cache_dir("ccomp")``), one file
per machine and profile version: ``device-profiles/v1-<machine>.json``, where
``<machine>`` digests the host name, processor and core count, so a home folder shared
between machines keeps one file each. ``--profiles FILE`` or ``CCOMP_DEVICE_PROFILES``
replace them (tests, what-if placements); ``-t auto`` reads them the same way
(:func:`resolve`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import time
from pathlib import Path

from ccomp.diagnostics import CompileError
from ccomp.dialects.cost_model import (PROFILE_VERSION, DeviceProfile, ProfileFormatError, profiles_to_json,
                                       read_profiles)

log = logging.getLogger(__name__)
ENV = "CCOMP_DEVICE_PROFILES"


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("devices", help="show the devices found and their measured profiles; --measure measures them",
                       description="Show each target's device and its profile (memory bandwidth, f32 FLOP rate, "
                                   "launch latency, host<->device transfer bandwidth), which '-t auto' places "
                                   "kernels by. --measure runs small ccomp programs on every available target "
                                   "(a few seconds each) and stores the result for this machine.")
    d.add_argument("--measure", action="store_true", help="measure the available targets and store the profiles")
    d.add_argument("-t", "--target", action="append", default=[], metavar="TARGET",
                   help="with --measure: measure only TARGET (repeatable); the others keep their stored profile")
    d.add_argument("--profiles", metavar="FILE", help=f"read profiles from FILE instead (also: {ENV}=FILE)")


def machine_key() -> str:
    """What tells this machine apart for its profiles."""
    text = f"{platform.node()}|{platform.machine()}|{platform.processor()}|{os.cpu_count()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def profile_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("ccomp")) / "device-profiles" / f"v{PROFILE_VERSION}-{machine_key()}.json"


def resolve(explicit: str | None = None) -> tuple[dict[str, DeviceProfile] | None, str]:
    """The profiles to place by and where they came from: ``explicit`` (``--profiles``),
    else ``$CCOMP_DEVICE_PROFILES``, else this machine's stored file; ``(None, why)``
    when there are none. A named file that is unreadable or malformed is an error."""
    named = explicit or os.environ.get(ENV)
    if named:
        try:
            return read_profiles(named), named
        except ProfileFormatError as exc:
            raise CompileError(str(exc)) from None
    path = profile_path()
    if not path.exists():
        return None, f"no measured profiles ({path} does not exist; run 'ccomp devices --measure')"
    try:
        return read_profiles(str(path)), str(path)
    except ProfileFormatError as exc:
        log.warning("ignoring stored device profiles: %s", exc)
        return None, f"stored profiles unreadable ({exc}); run 'ccomp devices --measure'"


def _measure(only: list[str]) -> dict[str, DeviceProfile]:
    import ccomp
    from ccomp.runtime.devices.measure import measure, shares_host
    from ccomp.runtime.devices.targets import TARGETS, probe

    for target in only:
        if target not in TARGETS:
            raise CompileError(f"unknown target '{target}'; choose one of {', '.join(TARGETS)}")
    stored, _ = resolve() if only and not os.environ.get(ENV) else (None, "")
    out = dict(stored or {})
    for target in only or TARGETS:
        ok, detail = probe(target)
        if not ok:
            print(f"{target}: unavailable ({detail}), not measured")
            continue
        start = time.perf_counter()
        out[target] = measure(target, lambda text, t: ccomp.compile(text, target=t), detail, shares_host(target))
        print(f"{target}: measured in {time.perf_counter() - start:.1f} s")
    return out


def store(profiles: dict[str, DeviceProfile]) -> Path:
    path = profile_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = profiles_to_json(profiles, machine=platform.node(), measured_at=time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                          time.gmtime()))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)
    return path


def show(profiles: dict[str, DeviceProfile] | None, source: str) -> None:
    from ccomp.runtime.devices.targets import TARGETS, probe

    print(f"{'target':8} {'status':12} device")
    for name in TARGETS:
        ok, detail = probe(name)
        print(f"{name:8} {'available' if ok else 'unavailable':12} {detail}")
    print()
    if profiles is None:
        print(source)
        return
    print(f"profiles: {source}")
    print(f"{'target':8} {'GB/s':>8} {'stencil GB/s':>12} {'GFLOP/s':>8} {'launch us':>10} {'transfer GB/s':>14}"
          "  cores")
    for name, p in profiles.items():
        transfer = "host memory" if p.transfer_gbps is None else f"{p.transfer_gbps:.2f}"
        stencil = "-" if p.stencil_gbps is None else f"{p.stencil_gbps:.2f}"
        print(f"{name:8} {p.bandwidth_gbps:8.2f} {stencil:>12} {p.gflops:8.2f} {p.launch_us:10.2f} {transfer:>14}  "
              f"{'the host CPU' if p.shares_host else 'its own'}")


def run(args: argparse.Namespace) -> int:
    if args.measure:
        if args.profiles:
            raise CompileError("--measure stores this machine's profiles; it does not read --profiles")
        path = store(_measure(args.target))
        print(f"stored {path}")
    show(*resolve(args.profiles))
    return 0


__all__ = ["ENV", "add_parser", "machine_key", "profile_path", "resolve", "run", "store"]
