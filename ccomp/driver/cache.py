"""The on-disk cache of builds, keyed by program text, target, options and ccomp version.

A second compile of an unchanged program (same target, options and compiler code)
is served from here: no frontend, no passes, no code generation. The cache lives in
``$CCOMP_CACHE_DIR`` or ``~/.cache/ccomp/builds``.

Nothing read from it is trusted, since anyone who can write the folder could plant an
entry that runs as the next compile. So:

* an entry is an ordinary build folder (:mod:`ccomp.runtime.build`), read with every
  check a build folder gets, plus ``request.json``: the exact program text, target,
  graph, options, ccomp version and compiler hash it was made for. It is served only
  when that record equals the request byte for byte, so an entry swapped, copied or
  symlinked from another program is never served as this one;
* every entry is signed (``manifest.sig``, HMAC-SHA256) with a per-user key, ``.key`` in
  the cache folder, made on first use with mode 0600; an entry not signed with it is
  not used. The manifest lists the SHA-256 of ``request.json``, so the tag covers it;
* a cache folder (or key) that another user owns or may write is refused with a
  warning: the cache is off, compiling still works;
* an invalid entry of any kind (tampered, swapped, malformed, truncated, a symlink) is
  discarded with a warning and rebuilt: the cache never raises to the user.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import stat
import tempfile
from pathlib import Path

from ccomp import __version__
from ccomp.runtime.build import Build, BuildError, load_build, write_build

log = logging.getLogger(__name__)

KEY_FILE = ".key"
KEY_BYTES = 32
REQUEST_FILE = "request.json"


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


class CacheKey(str):
    """The name of a cache entry, carrying the request it names: :func:`lookup` serves an
    entry only when the entry's recorded request equals :attr:`record`."""

    record: bytes

    def __new__(cls, name: str, record: bytes) -> CacheKey:
        key = super().__new__(cls, name)
        key.record = record
        return key


def cache_key(text: str, target: str, function: str | None, options: str = "") -> CacheKey:
    """The key of a compile of ``text`` for ``target`` (and graph ``function``, options)."""
    request = {"ccomp": __version__, "compiler": compiler_digest(), "target": target, "graph": function or "",
               "options": options, "text": text}
    record = json.dumps(request, sort_keys=True, ensure_ascii=True).encode()  # ascii: lone surrogates too
    return CacheKey(hashlib.sha256(record).hexdigest()[:32], record)


_WARNED: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        log.warning(message)


def _root_and_key(create: bool) -> tuple[Path, bytes] | None:
    """The cache folder and this user's key, or None (with a warning) when the folder
    cannot be trusted: owned by someone else or writable by group or others."""
    try:
        root = cache_dir()
    except (RuntimeError, KeyError):  # no home folder to put it in: no cache
        return None
    try:
        if create:
            root.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = os.stat(root)
    except OSError:
        return None
    uid = os.getuid() if hasattr(os, "getuid") else info.st_uid
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid or info.st_mode & 0o022:
        _warn_once(f"build cache off: '{root}' is writable by other users or not yours "
                   f"(mode {stat.S_IMODE(info.st_mode):o}); make it yours with 'chmod 700 {root}' to use it")
        return None
    key = _user_key(root / KEY_FILE, uid, create)
    return (root, key) if key is not None else None


def _user_key(path: Path, uid: int, create: bool) -> bytes | None:
    """This user's cache key: made on first use (mode 0600), refused when anyone else could
    read or replace it."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        if not create:
            return None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except FileExistsError:  # another process made it first: read theirs
            return _user_key(path, uid, create=False)
        except OSError as exc:
            _warn_once(f"build cache off: cannot create its key '{path}': {exc.strerror}")
            return None
        key = secrets.token_bytes(KEY_BYTES)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        return key
    except OSError as exc:
        _warn_once(f"build cache off: cannot read its key '{path}': {exc.strerror}")
        return None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        key = f.read(KEY_BYTES + 1) if stat.S_ISREG(info.st_mode) else b""
    if info.st_uid != uid or info.st_mode & 0o077 or len(key) != KEY_BYTES:
        _warn_once(f"build cache off: its key '{path}' is not a {KEY_BYTES}-byte file readable by you alone "
                   f"(mode {stat.S_IMODE(info.st_mode):o}); delete it to make a new one")
        return None
    return key


def lookup(key: str) -> Build | None:
    """The cached build for ``key`` (a :class:`CacheKey`), or None: a miss, a cache that
    is off, or an entry found invalid (then discarded). Never raises."""
    record = getattr(key, "record", None)
    found = _root_and_key(create=False) if record is not None else None
    if found is None:
        return None
    root, secret = found
    folder = root / key
    if not os.path.lexists(folder):
        return None
    try:
        if folder.is_symlink() or not folder.is_dir():
            raise BuildError("it is not a folder of the cache (a symlink or a file)")
        build, data = load_build(folder, verify_key=secret)
        if data.get(REQUEST_FILE) != record:
            raise BuildError("it was made for another program, target or compiler")
        return build
    except BuildError as exc:
        log.warning("discarding cache entry %s: %s", key, exc)
    except Exception as exc:  # noqa: BLE001 — a cache entry must never break a compile
        log.warning("discarding cache entry %s: %s: %s", key, type(exc).__name__, exc)
    _discard(folder)
    return None


def _discard(folder: Path) -> None:
    try:
        if folder.is_symlink() or not folder.is_dir():
            folder.unlink()
        else:
            shutil.rmtree(folder, ignore_errors=True)
    except OSError as exc:
        log.warning("could not discard cache entry %s: %s", folder.name, exc)


def store(key: str, build: Build) -> None:
    """Write atomically: a half-written entry is never visible under its key."""
    record = getattr(key, "record", None)
    found = _root_and_key(create=True) if record is not None else None
    if found is None:
        return
    root, secret = found
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
        try:
            write_build(build, tmp, sign_key=secret, extra={REQUEST_FILE: record})
            final = root / key
            if os.path.lexists(final):
                _discard(final)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    except Exception as exc:  # noqa: BLE001 — a read-only or full cache must not break compilation
        log.warning("could not write the build cache: %s", exc)
