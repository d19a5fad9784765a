"""The state the op tables lower into: one llvmlite builder plus declaration helpers.

The op tables (``ops_arith``, ``ops_math``) are plain functions over this object so
that they stay free of control flow; ``lower.KernelEmitter`` extends it with the
value map, regions and the index-space loops.
"""

from __future__ import annotations

from collections.abc import Sequence

from llvmlite import ir
from xdsl.dialects.builtin import FileLineColLoc
from xdsl.ir import Operation

from ccomp.backends.llvm.types import element_of, mangle
from ccomp.dialects import kern


class LoweringError(NotImplementedError):
    """An op (or a use of one) the LLVM backend does not support; names op and location."""


def describe_location(op: Operation) -> str:
    """``file:line:col`` of ``op`` when it has one, else the enclosing kernel's name."""
    loc = op.location
    if isinstance(loc, FileLineColLoc):
        return f"{loc.filename.data}:{loc.line.data}:{loc.column.data}"
    node: Operation | None = op
    while node is not None and not isinstance(node, kern.KernelOp):
        node = node.parent_op()
    if node is not None:
        return f"in kern.kernel @{node.sym_name.data}"
    return "at an unknown location"


def unsupported(op: Operation, why: str = "") -> LoweringError:
    """The error to raise for ``op``; ``why`` narrows down which use is unsupported."""
    detail = f" ({why})" if why else ""
    return LoweringError(f"{describe_location(op)}: '{op.name}' is not supported by the LLVM backend{detail}")


def fastmath_flags(op: Operation) -> tuple[str, ...]:
    """LLVM fast-math flags mirroring the op's ``fastmath`` property (MLIR and LLVM share names)."""
    attr = op.properties.get("fastmath")
    if attr is None:
        return ()
    return tuple(sorted(str(getattr(f, "value", f)) for f in attr.data))  # type: ignore[attr-defined]


class Lowering:
    """An ``ir.IRBuilder`` positioned in a kernel, plus function declarations by name."""

    def __init__(self, module: ir.Module, builder: ir.IRBuilder):
        self.module = module
        self.builder = builder

    def declare(self, name: str, ret: ir.Type, args: Sequence[ir.Type]) -> ir.Function:
        """The function ``name`` of this module, declared on first use."""
        existing = self.module.globals.get(name)
        if existing is not None:
            return existing  # type: ignore[return-value]
        fn = ir.Function(self.module, ir.FunctionType(ret, list(args)), name=name)
        return fn

    def intrinsic(self, base: str, args: Sequence[ir.Value], overloads: Sequence[ir.Type] | None = None,
                  ret: ir.Type | None = None, flags: Sequence[str] = ()) -> ir.Value:
        """Call ``llvm.<base>`` overloaded on ``overloads`` (default: the first argument's type)."""
        types = [a.type for a in args]
        over = list(overloads) if overloads is not None else [types[0]]
        name = ".".join([f"llvm.{base}", *(mangle(t) for t in over)])
        fn = self.declare(name, ret if ret is not None else types[0], types)
        return self.builder.call(fn, list(args), fastmath=tuple(flags))

    def per_lane(self, fn, args: Sequence[ir.Value]) -> ir.Value:
        """Apply the scalar function ``fn(builder_values) -> value`` lane by lane to vectors."""
        first = args[0].type
        if not isinstance(first, ir.VectorType):
            return fn(list(args))
        b = self.builder
        out: ir.Value | None = None
        for lane in range(first.count):
            idx = ir.Constant(ir.IntType(32), lane)
            scalar = fn([b.extract_element(a, idx) for a in args])
            if out is None:
                out = ir.Constant(ir.VectorType(scalar.type, first.count), ir.Undefined)
            out = b.insert_element(out, scalar, idx)
        assert out is not None
        return out

    def libm(self, stem: str, args: Sequence[ir.Value]) -> ir.Value:
        """Call the C library function ``stem`` (``tan``/``tanf``), scalarising vectors.

        Half precision is computed in float, as C has no half-precision libm."""
        b = self.builder

        def scalar_call(vals: list[ir.Value]) -> ir.Value:
            t = vals[0].type
            work = ir.FloatType() if isinstance(t, ir.HalfType) else t
            name = stem + ("f" if isinstance(work, ir.FloatType) else "")
            fn = self.declare(name, work, [work] * len(vals))
            widened = [b.fpext(v, work) if v.type != work else v for v in vals]
            r = b.call(fn, widened)
            return b.fptrunc(r, t) if t != work else r

        elem = element_of(args[0].type)
        if not isinstance(elem, (ir.HalfType, ir.FloatType, ir.DoubleType)):
            raise TypeError(f"libm function {stem} needs float operands")
        return self.per_lane(scalar_call, args)
