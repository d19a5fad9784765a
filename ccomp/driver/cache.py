"""The on-disk cache of builds, keyed by program text, target, options and ccomp version.

A second compile of an unchanged program (same target, options and compiler code)
is served from here: no frontend, no
passes, no code generation. Entries are ordinary build folders (:mod:`ccomp.runtime.build`),
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
from ccomp.runtime.build import Build, BuildError, read_build, write_build

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    root = os.environ.get("CCOMP_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "ccomp" / "builds"


_COMPILER_DIGEST: str | None = None


def compiler_digest() -> str:
    """A hash of ccomp's own code (sources and grammar), so that a changed compiler —
    a new release or a local edit — never reuses builds an older one made."""
    global _COMPILER_DIGEST
    if _COMPILER_DIGEST is None:
        import ccomp
        import ccomp.dialects
        import ccomp.passes

        h = hashlib.sha256()
        roots = {Path(m.__file__).parent for m in (ccomp, ccomp.dialects, ccomp.passes)}
        for root in sorted(roots):
            for f in sorted(root.rglob("*")):
                if f.suffix in (".py", ".lark") and "__pycache__" not in f.parts:
                    h.update(str(f.relative_to(root)).encode())
                    h.update(f.read_bytes())
        _COMPILER_DIGEST = h.hexdigest()
    return _COMPILER_DIGEST


def cache_key(text: str, target: str, function: str | None, options: str = "") -> str:
    h = hashlib.sha256()
    for part in (__version__, compiler_digest(), target, function or "", options, text):
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
