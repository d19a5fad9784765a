"""Located diagnostics: every error a user can cause is reported as

    file:line:col: error: message
        source line
        ^

and raised as :class:`CompileError`, which the CLI turns into a non-zero exit and
the Python API lets propagate. Nothing a user does should surface as a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SourceLoc:
    """A position in a source file; ``line`` and ``col`` are 1-based."""

    file: str
    line: int
    col: int


@dataclass
class Source:
    """A program's text and the name diagnostics call it by."""

    text: str
    name: str = "<input>"

    @classmethod
    def from_path(cls, path: str | Path) -> "Source":
        p = Path(path)
        try:
            return cls(p.read_text(encoding="utf-8"), str(path))
        except FileNotFoundError:
            raise CompileError(f"no such file: '{path}'") from None
        except IsADirectoryError:
            raise CompileError(f"'{path}' is a folder, not a .cn program") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CompileError(f"cannot read '{path}': {exc}") from None

    def line_text(self, line: int) -> str:
        lines = self.text.splitlines()
        return lines[line - 1] if 1 <= line <= len(lines) else ""


@dataclass
class Diagnostic:
    """One message, with an optional location and its source excerpt."""

    message: str
    loc: SourceLoc | None = None
    severity: str = "error"
    source_line: str | None = None
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        if self.loc is None:
            head = f"{self.severity}: {self.message}"
        else:
            head = f"{self.loc.file}:{self.loc.line}:{self.loc.col}: {self.severity}: {self.message}"
        lines = [head]
        if self.loc is not None and self.source_line is not None:
            text = self.source_line.expandtabs(4)
            # the caret column counts tabs as expanded, so it stays under the character
            pad = len(self.source_line[: max(self.loc.col, 1) - 1].expandtabs(4))
            lines.append("    " + text)
            lines.append("    " + " " * pad + "^")
        lines.extend(f"note: {n}" for n in self.notes)
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
