"""The on-disk cache of builds, keyed by program text, target, options and ccomp version.

A second compile of an unchanged program is served from here: no frontend, no
passes, no code generation. Entries are ordinary build folders (:mod:`ccomp.build`),
so a corrupted entry fails its checksums and is rebuilt, never trusted. The cache
lives in ``$CCOMP_CACHE_DIR`` or ``~/.cache/ccomp/builds``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from ccomp import __version__
from ccomp.build import Build, BuildError, read_build, write_build

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    root = os.environ.get("CCOMP_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "ccomp" / "builds"


def cache_key(text: str, target: str, function: str | None, options: str = "") -> str:
    h = hashlib.sha256()
    for part in (__version__, target, function or "", options, text):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def lookup(key: str) -> Build | None:
    folder = cache_dir() / key
    if not folder.exists():
        return None
    try:
        return read_build(folder)
    except BuildError as exc:
        log.warning("discarding cache entry %s: %s", key, exc)
        shutil.rmtree(folder, ignore_errors=True)
        return None


def store(key: str, build: Build) -> None:
    """Write atomically: a half-written entry is never visible under its key."""
    root = cache_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
        write_build(build, tmp)
        final = root / key
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    except OSError as exc:  # a read-only or full cache must not break compilation
        log.warning("could not write the build cache: %s", exc)
