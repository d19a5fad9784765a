"""Reading a build folder as untrusted input, and signing builds so a user can refuse
those they did not make.

Every file of a build is read through :func:`read_confined`: a relative path of plain
names (no ``..``, no absolute path, no symlink anywhere on the way, ``O_NOFOLLOW`` at each
step), a regular file (a FIFO, a device such as ``/dev/zero`` or a directory is refused
without blocking: the file is opened ``O_NONBLOCK`` and checked with ``fstat``), and at
most a fixed number of bytes. So a hostile ``files`` list can neither read outside the
folder nor hang or exhaust memory.

Signatures are HMAC-SHA256 (:mod:`hmac`, standard library) over the exact bytes of
``manifest.json``, which lists the SHA-256 of every other file, so one tag covers the
whole build. HMAC rather than Ed25519: the person who verifies a build is the one who
made it (``ccomp build --sign KEY`` then ``ccomp run --build DIR --verify KEY``), so a
shared secret is enough, and it needs no dependency beyond Python. A signature proves
who wrote the build, not that its code is harmless: see docs/manifest.md.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import stat
from pathlib import Path

SIGNATURE_FILE = "manifest.sig"
SIGNATURE_SCHEME = "hmac-sha256"
MAX_FILE_BYTES = 256 << 20  # one file of a build (a kernel module of a large program is a few MB)
MAX_MANIFEST_BYTES = 16 << 20
MAX_KEY_BYTES = 4096
MIN_KEY_BYTES = 16
MAX_PATH_CHARS = 255


class TrustError(Exception):
    """A file of a build (or a key) that cannot be trusted: the message says why."""


def check_relative(rel: str) -> list[str]:
    """The components of ``rel``, a path inside a build folder; refuses absolute paths,
    ``..``, empty or odd components, backslashes and control characters."""
    if not isinstance(rel, str) or not rel or len(rel) > MAX_PATH_CHARS:
        raise TrustError(f"file name {rel!r} is not a short relative path")
    if rel.startswith("/") or "\\" in rel or any(ord(c) < 32 or c == "\x7f" for c in rel):
        raise TrustError(f"file name {rel!r} is not a plain relative path inside the build folder")
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise TrustError(f"file name {rel!r} leaves the build folder or is not normalised")
    return parts


def read_confined(folder: Path, rel: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``folder/rel``, refusing anything but a regular file inside ``folder``
    reached without symlinks, and anything larger than ``limit`` bytes."""
    parts = check_relative(rel)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise TrustError(f"cannot open the build folder: {exc.strerror}") from None
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, flags | getattr(os, "O_DIRECTORY", 0), dir_fd=fd)
            except OSError as exc:
                raise TrustError(_why(rel, exc)) from None
            os.close(fd)
            fd = inner
        try:
            inner = os.open(parts[-1], flags | os.O_NONBLOCK, dir_fd=fd)
        except OSError as exc:
            raise TrustError(_why(rel, exc)) from None
        os.close(fd)
        fd = inner
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TrustError(f"{rel} is not a regular file")
        if info.st_size > limit:
            raise TrustError(f"{rel} has {info.st_size} bytes, more than the {limit} a build file may have")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise TrustError(f"{rel} grew past the {limit} bytes a build file may have")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _why(rel: str, exc: OSError) -> str:
    if exc.errno in (errno.ELOOP, errno.EMLINK) or (exc.errno == errno.ENOTDIR and "/" in rel):
        return f"{rel} is (or goes through) a symbolic link, which a build may not contain"
    if exc.errno == errno.ENOENT:
        return f"{rel} is missing"
    return f"{rel} cannot be read: {exc.strerror}"


def read_key(path: str | Path) -> bytes:
    """A signing key: a regular file of 16 to 4096 bytes (``head -c 32 /dev/urandom > KEY``).
    Unlike a build's files it may be reached through a symlink: the user names it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise TrustError(f"key file '{path}' cannot be read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise TrustError(f"key file '{path}' is not a regular file")
        data = f.read(MAX_KEY_BYTES + 1)
    if not MIN_KEY_BYTES <= len(data) <= MAX_KEY_BYTES:
        raise TrustError(f"key file '{path}' has {len(data)} bytes; a key has {MIN_KEY_BYTES} to {MAX_KEY_BYTES} "
                         "(make one with: head -c 32 /dev/urandom > KEYFILE; chmod 600 KEYFILE)")
    return data


def tag(key: bytes, *parts: bytes) -> str:
    """The HMAC-SHA256 of ``parts`` under ``key``, each part length-prefixed so that no two
    different sequences of parts give the same message."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        mac.update(len(part).to_bytes(8, "big"))
        mac.update(part)
    return mac.hexdigest()


def signature_text(key: bytes, manifest: bytes) -> str:
    """The content of ``manifest.sig`` for a manifest's exact bytes."""
    return f"{SIGNATURE_SCHEME} {tag(key, manifest)}\n"


def check_signature(folder: Path, manifest: bytes, key: bytes) -> None:
    """Refuse unless ``folder``'s ``manifest.sig`` is ``key``'s signature of ``manifest``."""
    try:
        text = read_confined(folder, SIGNATURE_FILE, 1024).decode("ascii")
    except TrustError as exc:
        raise TrustError(f"the build is not signed ({exc}); sign it with 'ccomp build --sign KEY'") from None
    except UnicodeDecodeError:
        raise TrustError(f"{SIGNATURE_FILE} is not a signature") from None
    scheme, _, value = text.strip().partition(" ")
    if scheme != SIGNATURE_SCHEME:
        raise TrustError(f"{SIGNATURE_FILE} uses scheme {scheme[:40]!r}, not {SIGNATURE_SCHEME}")
    if not hmac.compare_digest(value.encode(), tag(key, manifest).encode()):
        raise TrustError("its signature does not match: it was signed with another key, or "
                         "manifest.json changed after signing")
