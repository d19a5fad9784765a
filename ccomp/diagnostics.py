"""Located diagnostics: every error a user can cause is reported as

    file:line:col: error: message
        source line
        ^

and raised as :class:`CompileError`, which the CLI turns into a non-zero exit and
the Python API lets propagate. Nothing a user does should surface as a traceback.
"""

from __future__ import annotations

import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SourceLoc:
    """A position in a source file; ``line`` and ``col`` are 1-based."""

    file: str
    line: int
    col: int


# The longest program text read, from a file or a string (compile time is linear in it).
MAX_SOURCE_BYTES = 16 << 20


def normalise_newlines(text: str) -> str:
    """``\\r\\n`` and a lone ``\\r`` become ``\\n``, and a leading byte-order mark is
    dropped: the text a file read in universal-newline mode gives, so the same bytes are
    the same program whether they come from a file or a string."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


@dataclass
class Source:
    """A program's text and the name diagnostics call it by. The text is normalised on
    construction (:func:`normalise_newlines`), so lines are split at ``\\n`` only, as the
    lexer counts them."""

    text: str
    name: str = "<input>"

    def __post_init__(self) -> None:
        self.text = normalise_newlines(self.text)

    @classmethod
    def from_path(cls, path: str | Path) -> "Source":
        """Read a regular file of at most :data:`MAX_SOURCE_BYTES` as UTF-8 (a FIFO or a
        device would block or never end); bytes that are not UTF-8 are a located error
        at the first of them (the file is quoted with those bytes replaced)."""
        p = Path(path)
        try:
            info = p.stat()
            if stat.S_ISDIR(info.st_mode):
                raise CompileError(f"'{path}' is a folder, not a .cn program")
            if not stat.S_ISREG(info.st_mode):
                raise CompileError(f"'{path}' is not a regular file")
            with p.open("rb") as f:
                data = f.read(MAX_SOURCE_BYTES + 1)
        except FileNotFoundError:
            raise CompileError(f"no such file: '{path}'") from None
        except OSError as exc:
            raise CompileError(f"cannot read '{path}': {exc.strerror or exc}") from None
        if len(data) > MAX_SOURCE_BYTES:
            raise CompileError(f"'{path}' is larger than {MAX_SOURCE_BYTES >> 20} MiB, too large for a program")
        try:
            return cls(data.decode("utf-8"), str(path))
        except UnicodeDecodeError as exc:
            source = cls(data.decode("utf-8", errors="replace"), str(path))
            before = normalise_newlines(data[: exc.start].decode("utf-8"))
            line = before.count("\n") + 1
            col = len(before) - (before.rfind("\n") + 1) + 1
            raise error_at(source, line, col, f"invalid UTF-8 byte 0x{data[exc.start]:02X}; "
                                              "a program must be UTF-8 text") from None

    def line_text(self, line: int) -> str:
        lines = self.text.split("\n")
        return lines[line - 1] if 1 <= line <= len(lines) else ""


# Characters a terminal would act on or hide (controls, format characters such as
# bidirectional overrides, surrogates, line separators) and spaces other than ' ':
# diagnostics show them escaped.
_HIDDEN = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
# A quoted source line wider than this is cut to a window around the caret.
MAX_QUOTE_WIDTH = 160


def escape_char(ch: str) -> str:
    """``ch`` as a diagnostic shows it: itself, or a Python-style escape if hidden."""
    category = unicodedata.category(ch)
    if category not in _HIDDEN and (category != "Zs" or ch == " "):  # a no-break space looks like ' '
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape_text(text: str) -> str:
    """Messages, notes and file names with hidden characters escaped (newlines and tabs kept)."""
    return "".join(ch if ch in "\n\t" else escape_char(ch) for ch in text)


def _quote(line: str, col: int) -> tuple[str, int]:
    """The source line as shown (tabs to 4 columns, hidden characters escaped, wide
    characters two columns, combining marks none) and the caret's display column, with
    a long line cut to a window around the caret."""
    shown: list[str] = []
    widths: list[int] = []
    column = 0
    for ch in line:
        if ch == "\t":
            text = " " * (4 - column % 4)
        else:
            text = escape_char(ch)
        if len(text) > 1 or ch == "\t":
            width = len(text)
        elif unicodedata.combining(ch):
            width = 0
        else:
            width = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        shown.append(text)
        widths.append(width)
        column += width
    at = min(max(col, 1) - 1, len(shown))
    lo, hi = 0, len(shown)
    if column > MAX_QUOTE_WIDTH:
        lo, used = at, 0
        while lo > 0 and used + widths[lo - 1] <= MAX_QUOTE_WIDTH // 2:
            lo -= 1
            used += widths[lo]
        hi = at
        while hi < len(shown) and used + widths[hi] <= MAX_QUOTE_WIDTH:
            used += widths[hi]
            hi += 1
    head = "..." if lo > 0 else ""
    tail = "..." if hi < len(shown) else ""
    return head + "".join(shown[lo:hi]) + tail, len(head) + sum(widths[lo:at])


@dataclass
class Diagnostic:
    """One message, with an optional location and its source excerpt."""

    message: str
    loc: SourceLoc | None = None
    severity: str = "error"
    source_line: str | None = None
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        """The text a user sees; characters a terminal would act on are escaped, and the
        caret stays under the column (see :func:`_quote`)."""
        message = escape_text(self.message)
        if self.loc is None:
            head = f"{self.severity}: {message}"
        else:
            head = f"{escape_text(self.loc.file)}:{self.loc.line}:{self.loc.col}: {self.severity}: {message}"
        lines = [head]
        if self.loc is not None and self.source_line is not None:
            text, pad = _quote(self.source_line, self.loc.col)
            lines.append("    " + text)
            lines.append("    " + " " * pad + "^")
        lines.extend(f"note: {escape_text(n)}" for n in self.notes)
        return "\n".join(lines)


class CompileError(Exception):
    """A user-facing error; ``str()`` is the rendered diagnostic."""

    def __init__(self, message: str, loc: SourceLoc | None = None, source: Source | None = None,
                 notes: list[str] | None = None):
        line = source.line_text(loc.line) if (source is not None and loc is not None) else None
        self.diagnostic = Diagnostic(message, loc, source_line=line, notes=notes or [])
        super().__init__(self.diagnostic.render())

    @property
    def message(self) -> str:
        return self.diagnostic.message


def error_at(source: Source, line: int, col: int, message: str, notes: list[str] | None = None) -> CompileError:
    """Build a located error for ``source`` (convenience for the frontend)."""
    return CompileError(message, SourceLoc(source.name, line, col), source, notes)


_SOURCES: dict[str, Source] = {}


def register_source(source: Source) -> None:
    """Remember a program's text so errors found later (on IR locations) can quote it."""
    _SOURCES[source.name] = source


def error_at_location(location: object, message: str, notes: list[str] | None = None) -> CompileError:
    """A located error from an xDSL ``FileLineColLoc`` (or an unknown location)."""
    from xdsl.dialects.builtin import FileLineColLoc

    if isinstance(location, FileLineColLoc):
        name = location.filename.data
        loc = SourceLoc(name, location.line.data, location.column.data)
        return CompileError(message, loc, _SOURCES.get(name), notes)
    return CompileError(message, notes=notes)


class PassError(Exception):
    """The one error type of passes and lowerings: a message and the op it is about.

    Passes know IR, not source files, so they raise this with the offending op; the
    driver turns it into a located :class:`CompileError` quoting the program text
    (:meth:`to_compile_error`). ``internal`` marks a broken invariant between stages
    (a compiler bug, reported as ``internal error: ...``) rather than a user error.
    """

    def __init__(self, op: object, message: str, internal: bool = False, notes: list[str] | None = None):
        self.op = op
        self.internal = internal
        self.notes = notes or []
        name = getattr(op, "name", None)
        self.message = f"internal error: {message}" + (f" (at '{name}')" if internal and name else "") \
            if internal else message
        super().__init__(self.message)

    @property
    def location(self) -> object:
        return getattr(self.op, "location", None)

    def to_compile_error(self) -> CompileError:
        return error_at_location(self.location, self.message, self.notes)
