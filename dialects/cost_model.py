"""Device profiles and the time model the ``partition-devices`` pass places kernels by.

A :class:`DeviceProfile` holds what ``ccomp devices --measure`` measured for one
target: memory bandwidth, f32 FLOP rate, launch latency and host<->device transfer
bandwidth (``None`` where the device works in host memory: llvm). The pass reads
profiles from a JSON file (``partition-devices{profiles="FILE"}``), the driver
stores them in the user cache, tests inject their own — one format, parsed here,
where both the pass and the runtime may import it (``dialects`` imports nothing of
ccomp).

The model (``docs/profiling.md``): a launch of ``flops`` FLOPs moving ``bytes`` takes
``launch + max(flops / rate, bytes / bandwidth)`` — a roofline with a fixed cost per
launch, at the stencil bandwidth for a kernel whose points read their neighbours; moving ``n`` bytes between two devices costs ``n / transfer`` out of the one
and ``n / transfer`` into the other (nothing on the host side of llvm).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

PROFILE_VERSION = 1
HOST_TARGET = "llvm"  # the target whose buffers are host memory: transfers start and end there


class ProfileFormatError(ValueError):
    """A device-profile file that does not have the expected shape."""


@dataclass(frozen=True)
class DeviceProfile:
    """What one target achieves on this machine."""

    target: str
    bandwidth_gbps: float  # device memory, read + write
    gflops: float  # f32
    launch_us: float  # a launch's fixed cost, issued from the host schedule
    transfer_gbps: float | None  # host <-> device copies; None: the device uses host memory
    device: str = ""
    stencil_gbps: float | None = None  # bandwidth of kernels that gather (neighbour reads); None: bandwidth_gbps
    shares_host: bool = False  # runs on the host's CPU cores (llvm, PoCL, llvmpipe): never split against another

    def kernel_seconds(self, flops: float, nbytes: float, gathers: bool = False) -> float:
        """Estimated time of one launch doing ``flops`` FLOPs over ``nbytes`` bytes
        (at the stencil bandwidth when its points read other points' elements)."""
        bandwidth = (self.stencil_gbps or self.bandwidth_gbps) if gathers else self.bandwidth_gbps
        return self.launch_us * 1e-6 + max(flops / (self.gflops * 1e9), nbytes / (bandwidth * 1e9))

    def transfer_seconds(self, nbytes: float) -> float:
        """Estimated time to copy ``nbytes`` between host memory and this device."""
        return 0.0 if self.transfer_gbps is None else nbytes / (self.transfer_gbps * 1e9)


def migration_seconds(nbytes: float, source: DeviceProfile, dest: DeviceProfile) -> float:
    """A buffer written on ``source`` and needed on ``dest``: out of one, into the other."""
    if source.target == dest.target:
        return 0.0
    return source.transfer_seconds(nbytes) + dest.transfer_seconds(nbytes)


def _number(entry: dict[str, Any], key: str, where: str, optional: bool = False) -> float | None:
    value = entry.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise ProfileFormatError(f"{where}: '{key}' must be a positive number, got {value!r}")
    return float(value)


def profiles_from_json(data: Any, where: str = "device profiles") -> dict[str, DeviceProfile]:
    """The profiles of ``{"version": 1, "profiles": {target: {...}}}``, checked."""
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
        raise ProfileFormatError(f"{where}: expected an object with 'version' and 'profiles'")
    if data.get("version") != PROFILE_VERSION:
        raise ProfileFormatError(f"{where}: version {data.get('version')!r}, this ccomp reads version {PROFILE_VERSION}")
    out = {}
    for target, entry in data["profiles"].items():
        if not isinstance(entry, dict):
            raise ProfileFormatError(f"{where}: the profile of '{target}' is not an object")
        at = f"{where}, {target}"
        out[target] = DeviceProfile(target, _number(entry, "bandwidth_gbps", at), _number(entry, "gflops", at),
                                    _number(entry, "launch_us", at), _number(entry, "transfer_gbps", at, True),
                                    str(entry.get("device", "")), _number(entry, "stencil_gbps", at, True),
                                    bool(entry.get("shares_host", target == HOST_TARGET)))
    return out


def read_profiles(path: str) -> dict[str, DeviceProfile]:
    """Profiles from a JSON file (``ProfileFormatError`` when unreadable or malformed)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as exc:
        raise ProfileFormatError(f"cannot read device profiles {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ProfileFormatError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    return profiles_from_json(data, path)


def profiles_to_json(profiles: dict[str, DeviceProfile], **extra: Any) -> dict[str, Any]:
    """The stored form of ``profiles`` (plus ``extra`` top-level fields)."""
    keep = [f.name for f in fields(DeviceProfile) if f.name != "target"]
    return {"version": PROFILE_VERSION, **extra,
            "profiles": {t: {k: v for k, v in asdict(p).items() if k in keep} for t, p in profiles.items()}}


__all__ = ["DeviceProfile", "HOST_TARGET", "PROFILE_VERSION", "ProfileFormatError", "migration_seconds",
           "profiles_from_json", "profiles_to_json", "read_profiles"]
