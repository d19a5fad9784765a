"""Verifier pieces ccomp's dialects share.

Each dialect's ``verify_`` methods state that dialect's rules; the mechanics several of
them repeat live here: the op a nested op belongs to, a kind checked against its
choices, a body whose block arguments match the op's inputs and whose last op is its
terminator. Messages name the op (``op.name``), so every dialect reports in one style.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from xdsl.ir import Attribute, Block, Operation
from xdsl.utils.exceptions import VerifyException

REDUCTIONS = ("add", "min", "max")
"""The combining kinds of ``sparse.reduce`` and ``kern.kernel reduce`` (``graph.reduce``
adds ``mean``)."""

T = TypeVar("T", bound=Operation)


def enclosing(op: Operation, cls: type[T]) -> T | None:
    """The nearest op around ``op`` that is a ``cls``, if any."""
    parent = op.parent_op()
    while parent is not None and not isinstance(parent, cls):
        parent = parent.parent_op()
    return parent


def check_kind(what: str, kind: str, choices: Sequence[str]) -> None:
    """``kind`` is one of ``choices``; ``what`` names it in the message (``graph.reduce kind``)."""
    if kind not in choices:
        raise VerifyException(f"{what} must be one of {', '.join(choices)}")


def check_arity(op: Operation, inputs: Sequence[object], block: Block) -> None:
    """A body takes one block argument per input of ``op``."""
    if len(block.args) != len(inputs):
        raise VerifyException(f"{op.name} has {len(inputs)} inputs but {len(block.args)} block arguments")


def terminator(op: Operation, block: Block, cls: type[T]) -> T:
    """The last op of ``block``, which must be a ``cls`` (the body's terminator)."""
    last = block.last_op
    if not isinstance(last, cls):
        raise VerifyException(f"{op.name} body must end with {cls.name}")
    return last


def check_types(what: str, got: Sequence[Attribute], want: Sequence[Attribute]) -> None:
    """Two lists of types agree; ``what`` is the whole message otherwise."""
    if list(got) != list(want):
        raise VerifyException(what)
