"""The wire format of messages and batches: msgpack, with a schema derived from the
:class:`MessageSpec`, for whatever crosses a process boundary.

A message is a map ``{"v": 1, "k": "m", "t": type, "h": schema hash, "id", "c", "p",
"f": {field: value}}``: a scalar field is a msgpack number or bool, a tensor field the
little-endian bytes of its values (its dtype and fixed dimensions come from the schema,
so the bytes alone say nothing the receiver must trust). A batch (``"k": "b"``) is
column-wise: ``"n"`` messages, the bytes of each column and of each variable field's
``n + 1`` int64 offsets, and the id, correlation and priority columns.

Decoding trusts nothing: msgpack's own limits cap every string, byte string, array and
map before anything is allocated; then every column's length must equal what ``n`` and
the schema imply, offsets must run from 0 to the number of values without going back,
and ``n`` is bounded. Any violation is a :class:`WireError` that says what was wrong.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Mapping

import msgpack
import numpy as np

from ccomp.runtime.actors.columns import Meta
from ccomp.runtime.actors.errors import WireError
from ccomp.runtime.actors.messages import Message
from ccomp.runtime.actors.spec import Batch, FieldSpec, MessageSpec

VERSION = 1
MAX_BYTES = 256 << 20  # the largest encoded payload decode accepts, by default


def schema(spec: MessageSpec) -> dict:
    """The schema of a message type, as plain data (``-1`` marks a variable dimension)."""
    return {"message": spec.name,
            "fields": [[f.name, f.dtype, [-1 if d is None else d for d in f.shape]] for f in spec.fields]}


def schema_hash(spec: MessageSpec) -> str:
    return hashlib.sha256(msgpack.packb(schema(spec))).hexdigest()[:16]


def _le(dtype: str) -> np.dtype:
    return np.dtype(dtype).newbyteorder("<")


def _fixed_count(f: FieldSpec) -> int:
    return math.prod(d for d in f.shape if d is not None)


def encode_message(spec: MessageSpec, msg: Message) -> bytes:
    fields: dict[str, Any] = {}
    for f in spec.fields:
        value = msg.fields[f.name]
        if f.shape:
            fields[f.name] = np.ascontiguousarray(value, _le(f.dtype)).tobytes()
        else:
            fields[f.name] = np.asarray(value, f.dtype).item()
    return msgpack.packb({"v": VERSION, "k": "m", "t": spec.name, "h": schema_hash(spec), "id": msg.id,
                          "c": msg.correlation_id, "p": msg.priority, "f": fields})


def encode_batch(spec: MessageSpec, batch: Batch, meta: Meta | None = None) -> bytes:
    n = batch.n
    if meta is None:
        meta = Meta(np.zeros(n, np.int64), np.full(n, -1, np.int64), np.full(n, 128, np.uint8), np.zeros(n, np.int64))
    cols = {f.name: np.ascontiguousarray(batch.columns[f.name], _le(f.dtype)).tobytes() for f in spec.fields}
    offs = {f.name: np.ascontiguousarray(batch.offsets[f.name], "<i8").tobytes() for f in spec.fields if f.variable}
    return msgpack.packb({"v": VERSION, "k": "b", "t": spec.name, "h": schema_hash(spec), "n": n,
                          "ids": np.ascontiguousarray(meta.ids, "<i8").tobytes(),
                          "c": np.ascontiguousarray(meta.keys, "<i8").tobytes(),
                          "p": np.ascontiguousarray(meta.prio, "u1").tobytes(), "cols": cols, "offs": offs})


def _unpack(data: bytes, max_bytes: int) -> dict:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireError(f"expected bytes, got {type(data).__name__}")
    if len(data) > max_bytes:
        raise WireError(f"payload of {len(data)} bytes is over the limit of {max_bytes}")
    try:
        obj = msgpack.unpackb(bytes(data), raw=False, strict_map_key=True, use_list=True,
                              max_str_len=1 << 16, max_bin_len=len(data), max_array_len=1 << 16,
                              max_map_len=1 << 12, max_ext_len=0)
    except msgpack.ExtraData:
        raise WireError("trailing bytes after the message") from None
    except (ValueError, msgpack.FormatError, msgpack.StackError, TypeError) as exc:
        raise WireError(f"not a valid msgpack payload (truncated or corrupt): {exc}") from None
    if not isinstance(obj, dict):
        raise WireError(f"expected a map at the top, got {type(obj).__name__}")
    return obj


def _get(obj: Mapping, key: str, kinds: type | tuple, what: str) -> Any:
    if key not in obj:
        raise WireError(f"{what}: missing '{key}'")
    value = obj[key]
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,))):
        raise WireError(f"{what}: '{key}' has the wrong type ({type(value).__name__})")
    return value


def _header(obj: dict, specs: Mapping[str, MessageSpec], kind: str) -> MessageSpec:
    if obj.get("v") != VERSION:
        raise WireError(f"unknown wire format version {obj.get('v')!r} (this runtime reads {VERSION})")
    if obj.get("k") != kind:
        raise WireError(f"expected a {'message' if kind == 'm' else 'batch'}, got kind {obj.get('k')!r}")
    name = _get(obj, "t", str, "header")
    spec = specs.get(name)
    if spec is None:
        raise WireError(f"unknown message type '{name}' (known: {', '.join(specs) or 'none'})")
    if obj.get("h") != schema_hash(spec):
        raise WireError(f"message type '{name}' was encoded with a different schema than this program's")
    return spec


def _column(raw: Any, dtype: str, count: int, what: str) -> np.ndarray:
    if not isinstance(raw, bytes):
        raise WireError(f"{what}: expected bytes, got {type(raw).__name__}")
    dt = _le(dtype)
    if len(raw) != count * dt.itemsize:
        raise WireError(f"{what}: {len(raw)} bytes where {count} values of {dtype} take {count * dt.itemsize}")
    return np.frombuffer(raw, dt).astype(dtype)


def decode_message(data: bytes, specs: Mapping[str, MessageSpec], max_bytes: int = MAX_BYTES) -> Message:
    obj = _unpack(data, max_bytes)
    spec = _header(obj, specs, "m")
    fields = _get(obj, "f", dict, spec.name)
    unknown = [k for k in fields if spec.field(k) is None]
    if unknown:
        raise WireError(f"{spec.name}: unknown field '{unknown[0]}'")
    out: dict[str, Any] = {}
    for f in spec.fields:
        what = f"{spec.name}.{f.name}"
        raw = _get(fields, f.name, (bytes,) if f.shape else (int, float, bool), what)
        if not f.shape:
            kind = np.dtype(f.dtype).kind
            if (kind == "b") != isinstance(raw, bool) or (kind in "iu" and not isinstance(raw, int)):
                raise WireError(f"{what}: expected a {f.dtype}, got {type(raw).__name__}")
            out[f.name] = np.asarray(raw, f.dtype)[()]
            continue
        item = np.dtype(f.dtype).itemsize
        count = len(raw) // item if f.variable else _fixed_count(f)
        arr = _column(raw, f.dtype, count, what)
        rest = _fixed_count(f)
        if f.variable and count % rest:
            raise WireError(f"{what}: {count} values do not fill whole rows of {rest}")
        out[f.name] = arr.reshape([count // rest if d is None else d for d in f.shape])
    ident, key, prio = obj.get("id"), obj.get("c"), obj.get("p", 128)
    for label, v in (("id", ident), ("c", key)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
            raise WireError(f"{spec.name}: '{label}' must be an integer or nil")
    if not isinstance(prio, int) or isinstance(prio, bool) or not 0 <= prio <= 255:
        raise WireError(f"{spec.name}: priority must be 0-255")
    msg = Message(spec.name, out, ident, key, prio)
    msg._spec = spec
    return msg


def decode_batch(data: bytes, specs: Mapping[str, MessageSpec], max_bytes: int = MAX_BYTES,
                 max_messages: int = 1 << 24) -> tuple[Batch, Meta]:
    obj = _unpack(data, max_bytes)
    spec = _header(obj, specs, "b")
    n = _get(obj, "n", int, spec.name)
    if isinstance(n, bool) or not 0 <= n <= max_messages:
        raise WireError(f"{spec.name}: batch size {n} is outside 0..{max_messages}")
    cols_raw = _get(obj, "cols", dict, spec.name)
    offs_raw = _get(obj, "offs", dict, spec.name)
    extra = [k for k in [*cols_raw, *offs_raw] if spec.field(k) is None]
    if extra:
        raise WireError(f"{spec.name}: unknown field '{extra[0]}'")
    cols, offs = {}, {}
    for f in spec.fields:
        what = f"{spec.name}.{f.name}"
        if f.variable:
            raw = cols_raw.get(f.name)
            if not isinstance(raw, bytes):
                raise WireError(f"{what}: expected bytes, got {type(raw).__name__}")
            off = _column(offs_raw.get(f.name), "int64", n + 1, what + " offsets")
            total = len(raw) // np.dtype(f.dtype).itemsize
            if off[0] != 0 or off[-1] != total or np.any(np.diff(off) < 0):
                raise WireError(f"{what}: offsets must start at 0, never decrease and end at the "
                                f"number of values ({total})")
            cols[f.name], offs[f.name] = _column(raw, f.dtype, total, what), off
        else:
            cols[f.name] = _column(cols_raw.get(f.name), f.dtype, n * _fixed_count(f), what).reshape((n, *f.shape))
    meta = Meta(_column(obj.get("ids"), "int64", n, "ids"), _column(obj.get("c"), "int64", n, "correlation ids"),
                _column(obj.get("p"), "uint8", n, "priorities"), np.zeros(n, np.int64))
    return Batch(spec.name, n, cols, offs), meta
