"""Program text: where it comes from (a file or a string) and what it may contain,
checked before anything reads it (the parser, the build cache's key).

Text reaches the compiler from files and from strings; both become a
:class:`~ccomp.diagnostics.Source`, whose newlines are normalised on construction
(``\\r\\n`` and a lone ``\\r`` are ``\\n``). This check then treats them alike: a
character that cannot be shown or stored safely is a located error wherever it
stands, even in a comment or a string, because

- a lone surrogate is not a character at all (a file cannot hold one; a Python string
  can, and it would crash every later ``encode``, the build cache's key first);
- NUL and other control characters are invisible in an editor and act on a terminal;
- bidirectional overrides and isolates make the text read differently from how it
  is compiled ("Trojan Source", CVE-2021-42574).

Tab, newline and form feed are the only control characters a program may use.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ccomp.diagnostics import MAX_SOURCE_BYTES, CompileError, Source, error_at

# C0 controls but tab, newline, form feed; DEL; C1 controls; surrogates; the
# bidirectional embeddings, overrides and isolates.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0d-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")

_NAMES = {0x00: "NUL", 0x1B: "ESC", 0x7F: "DEL", 0x0B: "vertical tab", 0x0D: "carriage return"}


def describe(ch: str) -> str:
    """Why a forbidden character is refused: the diagnostic's message."""
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        return f"a lone surrogate U+{code:04X} is not a character; a program must be valid Unicode text"
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return (f"the bidirectional control U+{code:04X} is not allowed in a program: "
                "it makes the text read differently from how it compiles")
    name = _NAMES.get(code)
    return (f"the control character U+{code:04X}" + (f" ({name})" if name else "") +
            " is not allowed in a program (tab, newline and form feed are the only ones it may use)")


def check_text(source: Source) -> None:
    """Raise a located :class:`~ccomp.diagnostics.CompileError` at the first character
    a program may not contain (see the module docstring); linear in the text."""
    if len(source.text) > MAX_SOURCE_BYTES:  # as for a file (Source.from_path)
        raise CompileError(f"{source.name}: the program text is longer than {MAX_SOURCE_BYTES >> 20} Mi "
                           "characters, too long for a program")
    m = _FORBIDDEN.search(source.text)
    if m is None:
        return
    before = source.text[: m.start()]
    line = before.count("\n") + 1
    col = m.start() - (before.rfind("\n") + 1) + 1
    raise error_at(source, line, col, describe(m.group()))


def source_from_file(path: str | os.PathLike[str]) -> Source:
    """The program in file ``path``, checked as any program text is
    (:func:`check_text`) before the cache or the parser sees it."""
    source = Source.from_path(Path(path))
    check_text(source)
    return source


def source_from_text(text: str, name: str = "<string>") -> Source:
    """Program text, called ``name`` in diagnostics, with newlines normalised and its
    characters checked exactly as for a file (a lone surrogate, NUL or terminal escape
    is a located error, never a crash later in the cache key)."""
    if not isinstance(text, str):
        raise TypeError(f"program text must be a str, not {type(text).__name__}; "
                        "for a file use ccomp.compile_file(path)")
    source = Source(text, str(name))
    check_text(source)
    return source


def looks_like_path(text: str) -> bool:
    """One line without a brace that ends in ``.cn`` or names an existing file: no
    program reads so (a declaration needs ``{``), and a user who wrote it meant a file."""
    if "\n" in text or "{" in text:
        return False
    if text.strip().endswith(".cn"):
        return True
    try:
        return os.path.isfile(text)
    except (OSError, ValueError):  # a NUL in it, a name too long
        return False
