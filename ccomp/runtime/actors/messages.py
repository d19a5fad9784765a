"""Messages as users see them, and the checks that keep bad ones out of a queue.

A :class:`Message` is a plain object (``msg.data``, ``msg.id``) built once per message
at the edge of the runtime: by ``rt.message(...)`` when a user sends one, and by
``rt.receive`` when a user takes a reply. Inside the runtime messages only exist as
columns (:class:`~ccomp.runtime.actors.spec.Batch`). :class:`Codec` converts and checks
both forms against a :class:`MessageSpec`; every refusal is a :class:`BadMessage` that
names the message type, the field and what was expected, and nothing is queued.
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from ccomp.runtime.actors.errors import BadMessage
from ccomp.runtime.actors.spec import Batch, FieldSpec, MessageSpec

#: Which NumPy kinds a field of each kind accepts: ints widen to floats, never the reverse.
_ACCEPTS = {"f": "iuf", "i": "iu", "u": "iu", "b": "b"}


class Message:
    """One message: its type, its fields (``msg.<field>``) and, once sent or received,
    its ``id``, ``correlation_id`` (None when unset) and ``priority``."""

    __slots__ = ("type", "fields", "id", "correlation_id", "priority", "_spec")

    def __init__(self, type: str, fields: dict[str, Any], id: int | None = None,
                 correlation_id: int | None = None, priority: int = 128):
        self.type, self.fields, self.id = type, fields, id
        self.correlation_id, self.priority = correlation_id, priority
        self._spec: MessageSpec | None = None  # the spec its fields were checked against

    def __getattr__(self, name: str) -> Any:
        try:
            return self.fields[name]
        except KeyError:
            raise AttributeError(f"message {self.type} has no field '{name}' "
                                 f"(fields: {', '.join(self.fields)})") from None

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.fields.items())
        return f"{self.type}({body}; id={self.id}, correlation_id={self.correlation_id})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message) or other.type != self.type or other.fields.keys() != self.fields.keys():
            return False
        return all(np.array_equal(v, other.fields[k]) for k, v in self.fields.items())


class Ragged(NamedTuple):
    """The values of a variable-length field for ``n`` messages, concatenated, and
    ``n + 1`` offsets: message ``i`` owns ``values[offsets[i]:offsets[i + 1]]``."""

    values: np.ndarray
    offsets: np.ndarray


_LANG = {"float32": "f32", "float64": "f64", "int32": "i32", "int64": "i64", "bool": "bool"}


def _describe(f: FieldSpec) -> str:
    """The field's type as the language spells it (``f32``, ``tensor<?xf32>``)."""
    scalar = _LANG.get(f.dtype, f.dtype)
    if not f.shape:
        return scalar
    return "tensor<" + "".join(("?" if d is None else str(d)) + "x" for d in f.shape) + scalar + ">"


class Codec:
    """Conversion and checks for one message type."""

    def __init__(self, spec: MessageSpec):
        self.spec = spec
        self.names = tuple(f.name for f in spec.fields)
        self.dtypes = {f.name: np.dtype(f.dtype) for f in spec.fields}
        self.fixed = tuple(f for f in spec.fields if not f.variable)
        self.variable = tuple(f for f in spec.fields if f.variable)

    def _cast(self, f: FieldSpec, value: Any, what: str) -> np.ndarray:
        dtype = self.dtypes[f.name]
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise BadMessage(f"{what}: expected {_describe(f)}, got {type(value).__name__} ({exc})") from None
        if arr.dtype.kind not in _ACCEPTS[dtype.kind]:
            if arr.size == 0 and arr.dtype == np.float64:  # [] reads as float64: empty is fine
                return arr.astype(dtype)
            got = {"U": "text", "S": "bytes", "O": "Python objects (or integers too large)"}.get(
                arr.dtype.kind, f"{arr.dtype} values")
            raise BadMessage(f"{what}: expected {_describe(f)}, got {got}")
        if dtype.kind in "iu" and arr.dtype != dtype and arr.size:
            info = np.iinfo(dtype)
            if arr.min() < info.min or arr.max() > info.max:
                raise BadMessage(f"{what}: a value is out of range for {dtype}")
        return arr.astype(dtype, copy=False)

    def field(self, f: FieldSpec, value: Any, what: str | None = None) -> Any:
        """One message's field, converted, or a :class:`BadMessage`."""
        what = what or f"{self.spec.name}.{f.name}"
        arr = self._cast(f, value, what)
        if arr.ndim != len(f.shape) or any(d is not None and d != s for d, s in zip(f.shape, arr.shape)):
            raise BadMessage(f"{what}: expected {_describe(f)}, got shape {arr.shape}")
        return arr[()] if not f.shape else np.ascontiguousarray(arr)

    def message(self, fields: Mapping[str, Any]) -> Message:
        """A checked :class:`Message` from a mapping of field values."""
        unknown = [k for k in fields if k not in self.dtypes]
        if unknown:
            raise BadMessage(f"message {self.spec.name} has no field '{unknown[0]}' "
                             f"(its fields: {', '.join(self.names) or 'none'})")
        missing = [n for n in self.names if n not in fields]
        if missing:
            raise BadMessage(f"message {self.spec.name} is missing field '{missing[0]}'")
        msg = Message(self.spec.name, {f.name: self.field(f, fields[f.name]) for f in self.spec.fields})
        msg._spec = self.spec
        return msg

    def columns(self, arrays: Mapping[str, Any]) -> Batch:
        """A checked :class:`Batch` from one array per field (``send_many``): a fixed
        field is ``(n, *shape)``; a variable one is a :class:`Ragged`, a list of 1-d
        arrays, or a 2-d ``(n, k)`` array (every message ``k`` values). Copies, so the
        caller may reuse its arrays once the call returns."""
        unknown = [k for k in arrays if k not in self.dtypes]
        if unknown:
            raise BadMessage(f"message {self.spec.name} has no field '{unknown[0]}' "
                             f"(its fields: {', '.join(self.names) or 'none'})")
        missing = [n for n in self.names if n not in arrays]
        if missing:
            raise BadMessage(f"message {self.spec.name} is missing field '{missing[0]}'")
        cols: dict[str, np.ndarray] = {}
        offs: dict[str, np.ndarray] = {}
        counts: dict[str, int] = {}
        for f in self.spec.fields:
            what = f"{self.spec.name}.{f.name}"
            value = arrays[f.name]
            if f.variable:
                vals, off = self._ragged(f, value, what)
                cols[f.name], offs[f.name], counts[f.name] = vals, off, len(off) - 1
            else:
                arr = self._cast(f, value, what)
                if arr.ndim != 1 + len(f.shape) or tuple(arr.shape[1:]) != f.shape:
                    raise BadMessage(f"{what}: expected an array of shape (n, {', '.join(map(str, f.shape))}"
                                     f"{',' if len(f.shape) == 1 else ''}) for n messages of type {_describe(f)}, "
                                     f"got shape {arr.shape}".replace("(n, )", "(n,)"))
                cols[f.name] = np.array(arr, dtype=self.dtypes[f.name], copy=True, order="C")
                counts[f.name] = arr.shape[0]
        sizes = set(counts.values())
        if len(sizes) > 1:
            raise BadMessage(f"message {self.spec.name}: fields hold different numbers of messages "
                             f"({', '.join(f'{k}: {v}' for k, v in counts.items())})")
        return Batch(self.spec.name, sizes.pop() if sizes else 0, cols, offs)

    def _ragged(self, f: FieldSpec, value: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(value, Ragged):
            vals = self._cast(f, value.values, what)
            off = np.asarray(value.offsets)
            if vals.ndim != 1 or off.ndim != 1 or off.dtype.kind not in "iu" or len(off) < 1:
                raise BadMessage(f"{what}: Ragged needs 1-d values and 1-d integer offsets")
            off = off.astype(np.int64)
            if off[0] != 0 or off[-1] != len(vals) or np.any(np.diff(off) < 0):
                raise BadMessage(f"{what}: offsets must start at 0, never decrease and end at "
                                 f"len(values) = {len(vals)}")
            return vals.copy(), off.copy()
        if isinstance(value, np.ndarray) and value.ndim == 2:
            vals = self._cast(f, value, what)
            n, k = vals.shape
            return np.ascontiguousarray(vals).reshape(-1).copy(), np.arange(n + 1, dtype=np.int64) * k
        if isinstance(value, Sequence) or (isinstance(value, np.ndarray) and value.dtype == object):
            parts = [self.field(f, v, f"{what}[{i}]") for i, v in enumerate(value)]
            off = np.zeros(len(parts) + 1, dtype=np.int64)
            np.cumsum([len(p) for p in parts], out=off[1:])
            vals = np.concatenate(parts) if parts else np.zeros(0, self.dtypes[f.name])
            return vals.astype(self.dtypes[f.name], copy=False), off
        raise BadMessage(f"{what}: a variable-length field takes a list of 1-d arrays, a 2-d array "
                         f"or ccomp.actors.Ragged(values, offsets), got {type(value).__name__}")


def row_message(batch: Batch, i: int) -> dict[str, Any]:
    """The fields of row ``i`` of ``batch``, as a user sees them (scalars as Python numbers)."""
    out: dict[str, Any] = {}
    for name, col in batch.columns.items():
        off = batch.offsets.get(name)
        if off is not None:
            out[name] = col[off[i]:off[i + 1]].copy()
        elif col.ndim == 1:
            out[name] = col[i].item()
        else:
            out[name] = col[i].copy()
    return out
