"""Finding Ray and connecting to a cluster, the one place that imports ``ray``.

``--on ray`` starts a local Ray instance sized to this machine; ``--on ray://HOST:PORT``
(or ``address="ray://..."``) joins an existing cluster through Ray Client, and
``address="auto"`` the cluster this machine is a node of. A session that is already
connected (``ray.init`` called by the user or a test) is used as it is and never shut
down by ccomp.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Iterator

from ccomp.diagnostics import CompileError

log = logging.getLogger(__name__)


def require_ray() -> Any:
    """The ``ray`` module, or a :class:`CompileError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise CompileError("running on Ray needs the 'ray' package: pip install 'ccomp[ray]' "
                           "(or pip install 'ray==2.60.*')") from None
    return ray


def parse_on(value: str | None) -> tuple[str, str | None]:
    """``--on`` as (runtime, address): ``local``, ``ray`` or ``ray://ADDRESS``."""
    if value in (None, "", "local"):
        return "local", None
    if value == "ray":
        return "ray", None
    if value.startswith("ray://"):
        return "ray", value
    raise CompileError(f"--on takes local, ray or ray://HOST:PORT, not '{value}'")


@contextlib.contextmanager
def connected(address: str | None = None, num_cpus: int | None = None) -> Iterator[Any]:
    """Ray, connected: the session already open, else one started (or joined) here and
    shut down when the block ends."""
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    started = ensure(address, num_cpus)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def ensure(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Connect if not connected; whether this call started the session."""
    ray = require_ray()
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address is not None:
        kwargs = {"address": address, "log_to_driver": False}
    elif num_cpus is not None:
        kwargs["num_cpus"] = num_cpus
    try:
        ray.init(**kwargs)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError...
        where = address or "a local Ray instance"
        raise CompileError(f"could not connect to {where}: {exc}") from None
    log.info("connected to Ray (%s)", address or "local")
    return True
