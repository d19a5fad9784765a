"""The msgpack wire format (runtime alone: hand-written message specs): messages and
column-wise batches round-trip with fixed and variable-length tensors, and hostile bytes
(truncated, wrong types, oversized declared lengths) are a WireError, never a traceback
of another kind or an unbounded allocation."""

import msgpack
import numpy as np
import pytest

from ccomp.runtime.actors import WireError
from ccomp.runtime.actors.columns import Meta
from ccomp.runtime.actors.messages import Codec
from ccomp.runtime.actors.spec import FieldSpec, MessageSpec
from ccomp.runtime.actors.wire import decode_batch, decode_message, encode_batch, encode_message, schema

MIXED = MessageSpec("Mixed", (FieldSpec("data", "float32", (None,)), FieldSpec("pos", "float64", (3,)),
                              FieldSpec("k", "int32"), FieldSpec("ok", "bool"), FieldSpec("big", "int64")))
SPECS = {"Mixed": MIXED}


def _message():
    msg = Codec(MIXED).message({"data": [1.5, -2.0, 3.25], "pos": [0.1, 0.2, 0.3], "k": -7, "ok": True,
                                "big": 2 ** 40})
    msg.id, msg.correlation_id, msg.priority = 42, 7, 200
    return msg


def test_message_round_trip_keeps_fields_ids_and_priority():
    msg = _message()
    back = decode_message(encode_message(MIXED, msg), SPECS)
    assert back == msg
    assert (back.id, back.correlation_id, back.priority) == (42, 7, 200)
    assert back.data.dtype == np.float32 and back.pos.dtype == np.float64 and back.pos.shape == (3,)
    assert isinstance(back.ok, np.bool_) and back.big == 2 ** 40


def test_empty_variable_field_round_trips():
    msg = Codec(MIXED).message({"data": [], "pos": [0, 0, 0], "k": 0, "ok": False, "big": 0})
    assert decode_message(encode_message(MIXED, msg), SPECS).data.shape == (0,)


def test_batch_round_trip_is_column_wise():
    rng = np.random.default_rng(1)
    parts = [rng.standard_normal(int(m)).astype(np.float32) for m in rng.integers(0, 6, 50)]
    batch = Codec(MIXED).columns({"data": parts, "pos": rng.standard_normal((50, 3)),
                                  "k": np.arange(50), "ok": np.arange(50) % 2 == 0, "big": np.arange(50) * 10 ** 12})
    meta = Meta(np.arange(100, 150), np.full(50, -1), np.full(50, 3, np.uint8), np.zeros(50, np.int64))
    data = encode_batch(MIXED, batch, meta)
    raw = msgpack.unpackb(data)
    assert isinstance(raw["cols"]["pos"], bytes) and len(raw["cols"]["pos"]) == 50 * 3 * 8
    back, bmeta = decode_batch(data, SPECS)
    assert back.n == 50
    for name in batch.columns:
        np.testing.assert_array_equal(back.columns[name], batch.columns[name])
    np.testing.assert_array_equal(back.offsets["data"], batch.offsets["data"])
    np.testing.assert_array_equal(bmeta.ids, meta.ids)
    assert (bmeta.prio == 3).all() and (bmeta.keys == -1).all()


def test_schema_is_derived_from_the_spec():
    assert schema(MIXED)["fields"][0] == ["data", "float32", [-1]]
    assert schema(MIXED)["fields"][1] == ["pos", "float64", [3]]


def _tamper(data: bytes, **changes) -> bytes:
    obj = msgpack.unpackb(data)
    for path, value in changes.items():
        *heads, last = path.split("__")
        target = obj
        for h in heads:
            target = target[h]
        target[last] = value
    return msgpack.packb(obj)


@pytest.mark.parametrize("changes, words", [
    ({"f__k": "seven"}, "Mixed.k: 'k' has the wrong type"),
    ({"f__k": 1.5}, "expected a int32"),
    ({"f__ok": 1}, "expected a bool"),
    ({"f__pos": b"\0" * 16}, "16 bytes where 3 values of float64 take 24"),
    ({"f__data": [1.0, 2.0]}, "'data' has the wrong type"),
    ({"f__extra": 1}, "unknown field 'extra'"),
    ({"t": "Nope"}, "unknown message type 'Nope'"),
    ({"h": "0" * 16}, "different schema"),
    ({"v": 9}, "version 9"),
    ({"p": 999}, "priority must be 0-255"),
    ({"k": "b"}, "expected a message"),
])
def test_hostile_messages_are_wire_errors(changes, words):
    with pytest.raises(WireError, match=words.replace("(", r"\(").replace(")", r"\)")):
        decode_message(_tamper(encode_message(MIXED, _message()), **changes), SPECS)


def test_truncated_and_garbage_bytes_are_wire_errors():
    data = encode_message(MIXED, _message())
    for cut in (1, len(data) // 2, len(data) - 1):
        with pytest.raises(WireError, match="truncated or corrupt"):
            decode_message(data[:cut], SPECS)
    with pytest.raises(WireError, match="trailing bytes"):
        decode_message(data + b"\x00", SPECS)
    with pytest.raises(WireError, match="expected a map"):
        decode_message(msgpack.packb([1, 2, 3]), SPECS)
    with pytest.raises(WireError, match="expected bytes"):
        decode_message("text", SPECS)


def test_oversized_declared_lengths_allocate_nothing():
    # a bin32 header declaring 4 GiB of bytes, followed by 3 bytes
    huge_bin = b"\x81\xa1f\xc6\xff\xff\xff\xf0abc"
    with pytest.raises(WireError, match="truncated or corrupt"):
        decode_message(huge_bin, SPECS)
    # an array header declaring 2**32-1 elements
    with pytest.raises(WireError, match="truncated or corrupt"):
        decode_message(b"\xdd\xff\xff\xff\xff", SPECS)
    # a batch that declares a billion messages with small columns
    small = Codec(MIXED).columns({"data": [[1.0]], "pos": np.zeros((1, 3)), "k": [1], "ok": [True], "big": [1]})
    data = encode_batch(MIXED, small)
    with pytest.raises(WireError, match="batch size 1000000000 is outside"):
        decode_batch(_tamper(data, n=10 ** 9), SPECS)
    with pytest.raises(WireError, match="16 bytes where 3 values of int64"):
        decode_batch(_tamper(data, n=2), SPECS)
    with pytest.raises(WireError, match="over the limit"):
        decode_batch(data, SPECS, max_bytes=16)


def test_hostile_batch_offsets_are_wire_errors():
    b = Codec(MIXED).columns({"data": [[1.0, 2.0], [3.0]], "pos": np.zeros((2, 3)), "k": [1, 2],
                              "ok": [True, False], "big": [1, 2]})
    data = encode_batch(MIXED, b)
    for offs in ([0, 5, 3], [1, 2, 3], [0, 2, 1]):
        bad = _tamper(data, offs__data=np.array(offs, "<i8").tobytes())
        with pytest.raises(WireError, match="offsets must start at 0"):
            decode_batch(bad, SPECS)
    with pytest.raises(WireError, match="expected bytes, got NoneType"):
        decode_batch(_tamper(data, cols={"pos": b""}), SPECS)
    with pytest.raises(WireError, match="unknown field 'zzz'"):
        decode_batch(_tamper(data, cols__zzz=b""), SPECS)


def test_a_decoded_message_is_sent_as_is():
    import asyncio

    from ccomp.runtime.actors import ActorRuntime

    from .programs import stats_program

    async def go():
        async with ActorRuntime(stats_program()) as rt:
            await rt.launch("summarise")
            data = rt.encode(rt.message("Samples", data=[1.0, 2.0]))
            reply = await rt.ask("summarise", rt.decode(data))
            assert reply.total == 3.0
            back = rt.decode(rt.encode(reply))
            assert back == reply and back.correlation_id == reply.correlation_id
            with pytest.raises(WireError, match="truncated or corrupt"):
                rt.decode(data[:-2])
    asyncio.run(go())
