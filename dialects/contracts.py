"""Verification of the contracts one stage leaves for the next.

Some facts a stage learns live on as attributes that later stages and the runtime
read. Those on ccomp's own ops are properties, checked by the op's ``verify_``
(``graph.capture ... implicit group N``). Those on a ``func.func`` — the names,
defaults and outputs of a program (``graph.name``, ``graph.default``,
``graph.outputs``), its sparse storage (``sparse.format``, ``sparse.part``) and its
format variants (``sparse.auto``, ``sparse.variant_of``) — are declared as named
constants in ``dialects/ports.py`` and ``dialects/sparse_format.py``; ``module.verify()``
knows nothing of them, so :func:`verify_contracts` checks them. The driver calls it
with ``module.verify()`` after the frontend and after every pass, and
:func:`ccomp.dialects.context.parse_module` and ``ccomp-opt`` after parsing, so a
misspelt or mistyped contract fails where it is made, not where it is read.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DenseArrayBase, DictionaryAttr, FloatAttr, IntegerAttr, StringAttr, TensorType, i64
from xdsl.ir import Attribute, Block, Operation
from xdsl.utils.exceptions import VerifyException

from ccomp.dialects import graph, ports
from ccomp.dialects.actor import Actor
from ccomp.dialects.actor_contracts import HOST_ATTRS, verify_actor_host
from ccomp.dialects.graph import Graph
from ccomp.dialects.kern import Kern
from ccomp.dialects.loop import Loop
from ccomp.dialects.snn import DELIVERY, WEIGHTS_FILE, Snn
from ccomp.dialects.sparse import Sparse
from ccomp.dialects.sparse_format import (
    AUTO, FORMAT, PART, VARIANT_OF, FormatAttr, format_of, matrix_parts, parse_format, part_of,
)

FUNCTION_ATTRS = frozenset({ports.OUTPUTS, VARIANT_OF, DELIVERY, *HOST_ATTRS})
"""Attributes of ccomp's dialects a ``func.func`` may carry."""

PORT_ATTRS = frozenset({ports.PORT_NAME, ports.PORT_DEFAULT, ports.PORT_SHAPE, FORMAT, PART, AUTO,
                        WEIGHTS_FILE})
"""Attributes of ccomp's dialects an argument or result attribute dictionary may carry."""

_PREFIXES = tuple(f"{d.name}." for d in (Graph, Kern, Loop, Sparse, Snn, Actor))


def verify_contracts(module: Operation) -> None:
    """Check every stage contract in ``module``; raises ``VerifyException`` naming the op."""
    for op in module.walk():
        try:
            _verify_op(op)
        except VerifyException as err:
            op.emit_error(f"Operation does not verify: {err}", err)


def _verify_op(op: Operation) -> None:
    allowed = FUNCTION_ATTRS if isinstance(op, func.FuncOp) else frozenset()
    for key in op.attributes:
        if key.startswith(_PREFIXES) and key not in allowed:
            raise VerifyException(f"unknown attribute '{key}' on {op.name}")
    if isinstance(op, func.FuncOp):
        verify_graph_ports(op)
        verify_sparse_ports(op)
        verify_actor_host(op)
    for region in op.regions:
        for block in region.blocks:
            verify_kernel_groups(block)


def _unknown(attrs: Sequence[DictionaryAttr], what: str) -> None:
    for k, d in enumerate(attrs):
        for key in d.data:
            if key.startswith(_PREFIXES) and key not in PORT_ATTRS:
                raise VerifyException(f"unknown attribute '{key}' on {what} {k}")


# ----- graph: the ports of a program ---------------------------------------------------

def verify_graph_ports(fn: func.FuncOp) -> None:
    """``graph.name`` is a non-empty string; ``graph.default`` a literal of its scalar
    argument's type and ``graph.shape`` a static size of its rank (arguments only);
    ``graph.outputs`` names every output once."""
    args, results = ports.arg_ports(fn), ports.result_ports(fn)
    _unknown(args, "argument")
    _unknown(results, "result")
    for k, (d, t) in enumerate(zip(args, fn.function_type.inputs)):
        _check_name(d, f"argument {k}")
        default = d.data.get(ports.PORT_DEFAULT)
        if default is not None:
            if not isinstance(default, (FloatAttr, IntegerAttr)) or default.type != t:
                raise VerifyException(f"{ports.PORT_DEFAULT} of argument {k} must be a literal of type {t}, "
                                      f"got {default}")
        _check_shape(d, t, k)
    for k, (d, t) in enumerate(zip(results, fn.function_type.outputs)):
        _check_name(d, f"result {k}")
        if ports.PORT_DEFAULT in d.data:
            raise VerifyException(f"{ports.PORT_DEFAULT} is for arguments, not result {k}")
        _check_shape(d, t, k, "result")
    outputs = fn.attributes.get(ports.OUTPUTS)
    if outputs is None:
        return
    if not isinstance(outputs, ArrayAttr) or not all(isinstance(n, StringAttr) for n in outputs.data):
        raise VerifyException(f"{ports.OUTPUTS} must be an array of strings, got {outputs}")
    names = [n.data for n in outputs.data]
    if len(set(names)) != len(names):
        raise VerifyException(f"{ports.OUTPUTS} names an output twice: {names}")
    named = [ports.port_name(d) for d in results]
    if all(n is None for n in named):
        if len(names) != len(results):
            raise VerifyException(f"{ports.OUTPUTS} has {len(names)} names for {len(results)} results")
    elif None in named or list(dict.fromkeys(named)) != names:
        raise VerifyException(f"the {ports.PORT_NAME} of the results ({named}) do not follow "
                              f"{ports.OUTPUTS} {names}")


def _check_shape(d: DictionaryAttr, t: Attribute, k: int, role: str = "argument") -> None:
    """A ``graph.shape`` is i64 sizes (-1 dynamic, at least one static) of the argument's
    rank (2 for an image and for each part of a sparse matrix), equal to the static
    sizes of a tensor type."""
    shape = d.data.get(ports.PORT_SHAPE)
    if shape is None:
        return
    what = f"{ports.PORT_SHAPE} of {role} {k}"
    if not isinstance(shape, DenseArrayBase) or shape.elt_type != i64:
        raise VerifyException(f"{what} must be an array<i64: ...>, got {shape}")
    dims = shape.get_values()
    if not dims or any(s < -1 for s in dims) or all(s == -1 for s in dims):
        raise VerifyException(f"{what} must hold sizes >= 0 or -1 (dynamic), at least one static, got {list(dims)}")
    if PART in d.data:
        rank = 2
    elif isinstance(t, graph.AnyImageType):
        rank = graph.rank_of(t)
    elif hasattr(t, "get_shape"):
        rank = len(t.get_shape())
    else:
        raise VerifyException(f"{what}: a scalar {role} ({t}) has no size")
    if len(dims) != rank:
        raise VerifyException(f"{what} has {len(dims)} sizes for an {role} of rank {rank}")
    if isinstance(t, TensorType) and tuple(-1 if s < 0 else s for s in t.get_shape()) != tuple(dims):
        raise VerifyException(f"{what} {list(dims)} differs from the argument's type {t}")


def _check_name(d: DictionaryAttr, what: str) -> None:
    name = d.data.get(ports.PORT_NAME)
    if name is not None and (not isinstance(name, StringAttr) or not name.data):
        raise VerifyException(f"{ports.PORT_NAME} of {what} must be a non-empty string, got {name}")


def verify_kernel_groups(block: Block) -> None:
    """graph-to-kern computes a ``group`` of sinks in one kernel with one reduction at most."""
    reduced: set[int] = set()
    for op in block.ops:
        if isinstance(op, graph.ReduceOp) and op.group is not None:
            n = op.group.value.data
            if n in reduced:
                raise VerifyException(f"kernel group {n} has more than one graph.reduce")
            reduced.add(n)


# ----- sparse: storage and format variants ---------------------------------------------

def verify_sparse_ports(fn: func.FuncOp) -> None:
    """``sparse.format`` is a format; the values of one sparse matrix are consecutive, share
    a ``graph.name`` and carry its parts in order; ``sparse.auto`` tags an argument of a
    variant (``sparse.variant_of``) with the format that variant takes."""
    variant = fn.attributes.get(VARIANT_OF)
    if variant is not None and (not isinstance(variant, StringAttr) or not variant.data):
        raise VerifyException(f"{VARIANT_OF} must be a non-empty string, got {variant}")
    args, results = ports.arg_ports(fn), ports.result_ports(fn)
    _check_storage(args, "argument")
    _check_storage(results, "result")
    for k, d in enumerate(results):
        if AUTO in d.data:
            raise VerifyException(f"{AUTO} is for arguments, not result {k}")
    autos = 0
    for k, (d, t) in enumerate(zip(args, fn.function_type.inputs)):
        if AUTO not in d.data:
            continue
        autos += 1
        fmt = _format(d.data[AUTO], f"{AUTO} of argument {k}")
        if fmt is not None and fmt.kind.data == "auto":
            raise VerifyException(f"{AUTO} of argument {k} must name a concrete format")
        stored = format_of(t) if FORMAT not in d.data else _format(d.data[FORMAT], "")
        if stored != fmt:
            raise VerifyException(f"argument {k} is tagged {AUTO} = {d.data[AUTO]} "
                                  f"but its type is {t}")
    if (variant is None) != (autos == 0):
        raise VerifyException(f"a function has {VARIANT_OF} exactly when an argument has {AUTO}")


def _format(value: Attribute, what: str) -> FormatAttr | None:
    if not isinstance(value, StringAttr):
        raise VerifyException(f"{what} must be a string, got {value}")
    try:
        return parse_format(value.data)
    except VerifyException as err:
        raise VerifyException(f"{what}: {err}") from None


def _check_storage(attrs: Sequence[DictionaryAttr], what: str) -> None:
    k = 0
    while k < len(attrs):
        d = attrs[k].data
        if FORMAT not in d:
            if PART in d:
                raise VerifyException(f"{what} {k} has a {PART} but no {FORMAT}")
            k += 1
            continue
        fmt = _format(d[FORMAT], f"{FORMAT} of {what} {k}")
        if fmt is None:
            if PART in d:
                raise VerifyException(f"{what} {k} is a dense tensor; it has no {PART}")
            k += 1
            continue
        parts = matrix_parts(fmt)
        group = attrs[k:k + len(parts)]
        got = [part_of(g) for g in group]
        if got != list(parts) or any(g.data.get(FORMAT) != d[FORMAT] for g in group):
            raise VerifyException(f"{what}s {k}.. of a {fmt.text()} matrix must be its parts "
                                  f"{', '.join(parts)}, got {got}")
        if len({ports.port_name(g) for g in group}) != 1:
            raise VerifyException(f"{what}s {k}.. of one {fmt.text()} matrix must share one {ports.PORT_NAME}")
        k += len(parts)
