"""The stage contract ``actor-lower`` writes on a handler's host function, checked by
``verify_contracts`` (``dialects/contracts.py``) like every other contract:

- ``actor.checks`` (messages) and ``actor.check_locations`` (locations), one of each
  per check a row may fail, numbered from 1 in the ``status`` output;
- ``actor.lengths``: for each variable-length output (an output port name) the input
  port whose offsets it shares, or its fixed length (a positive integer);
- ``actor.out_messages``: the message type of each outgoing message, in output order;
- ``actor.loop_cost``: the loop iterations of one message (see ``dialects/actor.py``).
"""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, IntegerAttr, LocationAttr, StringAttr
from xdsl.utils.exceptions import VerifyException

from ccomp.dialects import ports
from ccomp.dialects.actor import CHECK_LOCATIONS, CHECKS, LENGTHS, LOOP_COST, OUT_MESSAGES

HOST_ATTRS = frozenset({CHECKS, CHECK_LOCATIONS, LENGTHS, OUT_MESSAGES, LOOP_COST})


def _strings(fn: func.FuncOp, key: str) -> list[str]:
    attr = fn.attributes[key]
    if not isinstance(attr, ArrayAttr) or not all(isinstance(a, StringAttr) for a in attr.data):
        raise VerifyException(f"{key} must be an array of strings")
    return [a.data for a in attr.data]


def verify_actor_host(fn: func.FuncOp) -> None:
    """Check the ``actor.*`` attributes of ``fn`` (if it has any)."""
    present = HOST_ATTRS & set(fn.attributes)
    if not present:
        return
    if present != HOST_ATTRS:
        raise VerifyException(f"a handler's host function carries all of {', '.join(sorted(HOST_ATTRS))}")
    checks = _strings(fn, CHECKS)
    locs = fn.attributes[CHECK_LOCATIONS]
    if not isinstance(locs, ArrayAttr) or len(locs.data) != len(checks) or not all(
            isinstance(loc, LocationAttr) for loc in locs.data):
        raise VerifyException(f"{CHECK_LOCATIONS} must hold one location per check")
    _strings(fn, OUT_MESSAGES)
    inputs = {ports.port_name(d) for d in ports.arg_ports(fn)}
    outputs = set(ports.output_names(fn) or ())
    cost = fn.attributes[LOOP_COST]
    if not isinstance(cost, DictionaryAttr) or any(
            not isinstance(v, IntegerAttr) or v.value.data < 0 or (k not in inputs and k not in ("", "?"))
            for k, v in cost.data.items()):
        raise VerifyException(f"{LOOP_COST} maps input ports (or \"\", \"?\") to loop counts")
    lengths = fn.attributes[LENGTHS]
    if not isinstance(lengths, DictionaryAttr):
        raise VerifyException(f"{LENGTHS} must be a dictionary")
    for out, source in lengths.data.items():
        if out not in outputs:
            raise VerifyException(f"{LENGTHS} names '{out}', which is no output")
        ok = (isinstance(source, StringAttr) and source.data in inputs) or (
            isinstance(source, IntegerAttr) and source.value.data > 0)
        if not ok:
            raise VerifyException(f"{LENGTHS}: the length of '{out}' comes from an input port or is a positive size")
