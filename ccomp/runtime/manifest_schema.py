"""The declared schema of ``manifest.json`` (JSON Schema, draft 2020-12), and the one
function that parses and validates a manifest's bytes.

Reading a build never walks the manifest with ``.get`` chains: its bytes are size-checked,
parsed with a nesting limit, and validated here, so a malformed or hostile manifest —
a missing key, a wrong type, a zero or negative size, a path that leaves the folder,
10,000 nested lists — is one :class:`ManifestError` naming the field, never a
``KeyError`` or ``RecursionError``. docs/manifest.md documents the same fields.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from ccomp.runtime.manifest import MANIFEST_FORMAT, MANIFEST_VERSION

MAX_DEPTH = 48  # the schedule nests one level per repeat zone; generated manifests stay under 20

_NAME = {"type": "string", "minLength": 1, "maxLength": 4096}  # graph names may be long; files get short stems
_TEXT = {"type": "string", "maxLength": 4096}
_COUNT = {"type": "integer", "minimum": 0, "maximum": 1 << 20}
_SLOT = {"type": "integer", "minimum": -1, "maximum": 4096}
# a path inside the build folder: plain names separated by '/', none of them '.' or '..'
_PATH = {"type": "string", "maxLength": 255,
         "pattern": r"^(?!.*(^|/)\.{1,2}(/|$))[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$"}
_SCALAR_VALUE = {"type": ["number", "boolean", "string", "null"]}

_PORT = {
    "type": "object",
    "required": ["name", "kind", "type", "dtype"],
    "properties": {
        "name": _NAME, "kind": {"enum": ["image", "scalar"]}, "type": _TEXT, "dtype": _NAME,
        "lanes": {"type": "integer", "minimum": 1, "maximum": 16}, "shape": _TEXT,
        "default": _SCALAR_VALUE,
        "line": {"type": "integer", "minimum": 1}, "col": {"type": "integer", "minimum": 1},
    },
}

_BINDING = {
    "type": "object",
    "required": ["name", "arg", "kind", "slot", "type", "dtype", "lanes", "access", "dims", "dim_slots"],
    "additionalProperties": False,
    "properties": {
        "name": _NAME, "arg": {"type": "integer", "minimum": -1, "maximum": 4096},
        "kind": {"enum": ["buffer", "uniform"]}, "slot": _SLOT, "type": _TEXT, "dtype": _NAME,
        "lanes": {"type": "integer", "minimum": 1, "maximum": 16},
        "access": {"enum": ["read", "write", "read_write", "none"]},
        "dims": {"type": "array", "items": _NAME, "maxItems": 3},
        "dim_slots": {"type": "array", "items": _SLOT, "maxItems": 3},
        "texture_format": {"type": "string", "maxLength": 32},
    },
}

_SOURCE_FIELDS = {
    "name": _NAME, "entry": _NAME, "target": {"enum": ["glsl", "opencl"]}, "file": _PATH,
    "rank": {"type": "integer", "minimum": 1, "maximum": 3},
    "local_size": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 1024},
                   "minItems": 1, "maxItems": 3},
    "bindings": {"type": "array", "items": _BINDING, "maxItems": 1024},
    "extents": {"type": "array", "items": _NAME, "minItems": 1, "maxItems": 3},
    "extent_slots": {"type": "array", "items": _SLOT, "minItems": 1, "maxItems": 3},
    "bases": {"type": "array", "items": _NAME, "maxItems": 3},
    "reduce": {"enum": [None, "add", "min", "max"]},
    "partials": {"oneOf": [{"type": "null"}, _BINDING]},
    "result_dtype": {"type": ["string", "null"], "maxLength": 32},
    "coarsen": {"type": "integer", "minimum": 1, "maximum": 1024},
    "dispatch": _TEXT,
}
_REQUIRED_SOURCE = ["name", "entry", "target", "file", "rank", "local_size", "bindings", "extents", "extent_slots"]
_KERNEL = {
    "type": "object", "required": _REQUIRED_SOURCE, "additionalProperties": False,
    "properties": {**_SOURCE_FIELDS,
                   "ssbo_only": {"oneOf": [{"type": "null"},
                                           {"type": "object", "required": _REQUIRED_SOURCE,
                                            "additionalProperties": False, "properties": _SOURCE_FIELDS}]}},
}

_STEP = {
    "type": "object", "required": ["op"],
    "properties": {
        "op": {"enum": ["constant", "dim", "alloc", "free", "launch", "barrier", "for", "scalar", "yield",
                        "return"]},
        "body": {"type": "array", "items": {"$ref": "#/$defs/step"}, "maxItems": 100000},
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ccomp build manifest",
    "type": "object",
    "required": ["format", "version", "ccomp", "target", "graph", "source", "inputs", "outputs", "kernels",
                 "schedule", "files"],
    "properties": {
        "format": {"const": MANIFEST_FORMAT}, "version": {"const": MANIFEST_VERSION}, "ccomp": _TEXT,
        "target": {"enum": ["llvm", "opencl", "glsl"]}, "graph": _NAME, "source": _TEXT,
        "inputs": {"type": "array", "items": _PORT, "maxItems": 1024},
        "outputs": {"type": "array", "items": _PORT, "maxItems": 1024},
        "kernels": {"type": "array", "items": _KERNEL, "maxItems": 4096},
        "llvm": {"type": "object", "required": ["module", "may_alias"], "additionalProperties": False,
                 "properties": {"module": _PATH,
                                "may_alias": {"type": "object", "additionalProperties": _PATH,
                                              "propertyNames": _NAME, "maxProperties": 4096}}},
        "schedule": {"type": "array", "items": {"$ref": "#/$defs/step"}, "maxItems": 100000},
        "files": {"type": "object", "propertyNames": _PATH, "minProperties": 2, "maxProperties": 8192,
                  "additionalProperties": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
    },
    "$defs": {"step": _STEP},
}

_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


class ManifestError(Exception):
    """A manifest that is not valid JSON, too deep, or does not match :data:`SCHEMA`."""


def depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (iteratively: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (list, dict)):
            deepest = max(deepest, d)
            if d <= MAX_DEPTH:
                stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return deepest


def parse_manifest(data: bytes) -> dict[str, Any]:
    """The manifest in ``data``, parsed and validated; :class:`ManifestError` otherwise."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise ManifestError(f"it nests deeper than the {MAX_DEPTH} levels a manifest may have") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(f"it is not JSON: {exc}") from None
    if depth(manifest) > MAX_DEPTH:
        raise ManifestError(f"it nests deeper than the {MAX_DEPTH} levels a manifest may have")
    stamp = (manifest.get("format"), manifest.get("version")) if isinstance(manifest, dict) else None
    if stamp is not None and stamp != (MANIFEST_FORMAT, MANIFEST_VERSION):  # said first: the likely cause
        raise ManifestError(f"it was written by an incompatible ccomp (format {str(stamp[0])[:40]!r} "
                            f"version {str(stamp[1])[:20]!r}); rebuild it")
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(manifest))
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path) or "(top level)"
        raise ManifestError(f"{where.lstrip('.')}: {_short(error.message)}")
    return manifest


def _short(message: str) -> str:
    return message if len(message) <= 300 else message[:300] + "..."
