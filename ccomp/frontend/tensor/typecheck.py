"""Type inference for ``fn`` tensor programs, with located errors.

A value in a fn is a scalar (``Ty``: ``f32``, ``f64``, ``i32``, ``i64``, ``bool``) or a
whole tensor of ``f32``, ``f64``, ``i32`` or ``i64``. Elementwise tensor arithmetic
promotes element types exactly as scalar arithmetic does (the element type of a
tensor operand is typed as if it were a scalar of that type, see :func:`elem_ty`), so
``tensor<f32> + tensor<f64>`` is an f64 tensor and ``v * 0.1`` with ``v`` f64 reads
0.1 as a double. A tensor's type *is* the builtin ``TensorType`` its op will have in the
``sparse`` dialect (dense ``tensor<?xf32>``, sparse ``tensor<?x?xf32,
#sparse.format<csr>>``), so shapes and formats are checked once, here, and the
generator can trust them. Types are inferred before any IR is built because the
generator must know where a tree of elementwise operations starts and ends (it
becomes one ``sparse.elementwise``), and so that a shape error is reported at the
operator that causes it rather than at a verifier failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xdsl.dialects.builtin import TensorType

from ccomp.dialects.sparse_format import format_of, with_format
from ccomp.frontend import ast, decls
from ccomp.frontend.builtins import BUILTINS, result_elem
from ccomp.frontend.emit import MATH_UNARY
from ccomp.frontend.typecheck import CMP_OPS, ExprChecker, did_you_mean, literal_of
from ccomp.frontend.types import WIDE, Ty, mlir_type, tensor_type

FTy = Ty | TensorType

GRAPH_ONLY_FUNCS = ("blur", "capture", "sample", "size", "resize", "histogram")
GRAPH_ONLY_NAMES = ("x", "y", "z", "uv")
TENSOR_REDUCTIONS = {"sum": "add", "min": "min", "max": "max", "mean": "mean"}
FN_FUNCTIONS = ("rows", "cols", "nnz", "fill", "to", "to_dense", *TENSOR_REDUCTIONS)
# The f32 pointwise builtins that apply to tensors element by element.
ELEMENTWISE_BUILTINS = frozenset([*MATH_UNARY, "abs", "min", "max", "pow", "clamp", "mix", "step",
                                  "smoothstep", "fract", "f32", "f64", "i32", "i64"])
_ELEMS = {str(mlir_type(n)): n for n in ("f32", "f64", "i32", "i64")}
ELEMENTWISE_OPS = ("+", "-", "*", "/", "%")
# sparse-select-format compiles one variant per format of each auto *parameter*; the
# format of a computed value is never left to the data.
AUTO_ONLY_PARAMS = ("'auto' is only allowed on parameters (the format of an input is chosen from its "
                    "data); name a format: csr, csc, coo, bsr(RxC) or dense")


def is_tensor(t: object) -> bool:
    return isinstance(t, TensorType)


def elem_of(t: FTy) -> str:
    """The element type's name of a tensor (``f64``), or a scalar's own type."""
    return _ELEMS[str(t.element_type)] if isinstance(t, TensorType) else t.elem


def elem_ty(t: FTy) -> Ty:
    """The scalar that stands for ``t`` when typing elementwise arithmetic."""
    return Ty(elem_of(t))


def rank(t: TensorType) -> int:
    return t.get_num_dims()


def show(t: FTy) -> str:
    """A type as the user writes it: ``tensor<?x4xf32, csr>``, ``f32``."""
    if isinstance(t, TensorType):
        dims = "x".join("?" if d < 0 else str(d) for d in t.get_shape())
        fmt = format_of(t)
        return f"tensor<{dims}x{elem_of(t)}" + (f", {fmt.text()}" if fmt is not None else "") + ">"
    return t.show()


def broadcast(tys: Sequence[TensorType], fail: Callable[[str], Exception], elem: str = "f32") -> TensorType:
    """NumPy broadcasting of tensor shapes (trailing axes aligned) to a dense result of ``elem``.

    A static size other than 1 wins over dynamic ones (which must then match it at run
    time); two different static sizes other than 1 are an error."""
    out_rank = max(rank(t) for t in tys)
    dims: list[int] = []
    for axis in range(1, out_rank + 1):
        sizes = [t.get_shape()[-axis] for t in tys if rank(t) >= axis]
        static = sorted({s for s in sizes if s > 1 or s == 0})
        if len(static) > 1:
            raise fail(f"shapes {' and '.join(show(t) for t in tys)} do not broadcast "
                       f"(sizes {static[0]} and {static[1]})")
        dims.append(static[0] if static else (-1 if any(s < 0 for s in sizes) else 1))
    return tensor_type(out_rank, shape=dims[::-1], elem=elem)


class FnTypes(ExprChecker[FTy]):
    """Types the expressions of one fn."""

    PROGRAMS = "fn programs"

    def show(self, t: FTy) -> str:
        return show(t)

    def operand_types(self, operands: Sequence[ast.Expr]) -> list[FTy]:
        """As for scalars, a literal beside a 64-bit value takes its type; here a
        tensor of f64/i64 counts as such a value too (``v * 0.1`` with ``v`` f64)."""
        others = [self.type_of(o) for o in operands if literal_of(o) is None]
        wide = {elem_of(t) for t in others} & set(WIDE)
        if wide:
            for o in operands:
                self.seed_literal(o, "f64" if "f64" in wide else "i64")
        return [self.type_of(o) for o in operands]

    # ----- classification, for the generator ----------------------------------

    def is_elementwise(self, e: ast.Expr) -> bool:
        """A tensor-valued node computed element by element from its operands."""
        if not is_tensor(self.type_of(e)):
            return False
        if isinstance(e, ast.Binary):
            return e.op in ELEMENTWISE_OPS
        if isinstance(e, ast.Unary):
            return True
        return isinstance(e, ast.Call) and e.func in ELEMENTWISE_BUILTINS

    def is_constant(self, e: ast.Expr) -> bool:
        """A scalar computed from literals alone: built inside an elementwise body
        (which may use nothing from outside) rather than passed in."""
        if isinstance(e, (ast.Number, ast.Bool)):
            return True
        if isinstance(e, ast.Unary):
            return self.is_constant(e.operand)
        if isinstance(e, ast.Binary):
            return e.op != "@" and self.is_constant(e.lhs) and self.is_constant(e.rhs)
        if isinstance(e, ast.Call):
            return (e.func in BUILTINS and bool(e.args) and all(self.is_constant(a) for a in e.args)
                    and not is_tensor(self.type_of(e)))
        return False

    # ----- inference ----------------------------------------------------------

    def name(self, e: ast.Name) -> FTy:
        t = self.lookup(e.name)
        if t is not None:
            return t
        if e.name in GRAPH_ONLY_NAMES:
            raise self.fail(e, f"'{e.name}' is an image coordinate and belongs to graphs; "
                               f"fn programs work on whole tensors")
        raise self.fail(e, f"unknown name '{e.name}'" + did_you_mean(e.name, self.names()))

    def member(self, e: ast.Member) -> FTy:
        state = self.zone_state(e)
        if state is None:
            raise self.fail(e, f"'.{e.name}': swizzles belong to graphs; fn programs have no vectors")
        return state

    def index(self, e: ast.Index) -> FTy:
        raise self.fail(e, "indexing reads image neighbours and belongs to graphs; "
                           "fn programs work on whole tensors")

    def storage_format(self, e: ast.Format) -> FTy:
        raise self.fail(e, f"a storage format such as {e.name}(...) is only the second argument of to()")

    def binary(self, e: ast.Binary) -> FTy:
        a, b = self.operand_types([e.lhs, e.rhs])  # a literal beside an f64/i64 takes its type
        if e.op == "@":
            return self._matmul(e, a, b)
        if not is_tensor(a) and not is_tensor(b):  # scalar arithmetic, as in graphs
            return Ty(self.scalar_binary(e, a, b))
        if e.op in ("&&", "||"):
            raise self.fail(e, f"'{e.op}' expects bools, got {show(a)} and {show(b)}")
        if e.op in CMP_OPS:
            raise self.fail(e, f"comparison of tensors ('{e.op}') is not supported by this version of ccomp")
        if any(not is_tensor(t) and t.elem == "bool" for t in (a, b)):
            raise self.fail(e, f"cannot apply '{e.op}' to {show(a)} and {show(b)}: expected numbers, got bool")
        elem = self.scalar_binary(e, elem_ty(a), elem_ty(b))  # promotion as for scalars
        return broadcast([t for t in (a, b) if is_tensor(t)], lambda m: self.fail(e, f"cannot apply '{e.op}': {m}"),
                         elem)

    def _matmul(self, e: ast.Binary, a: FTy, b: FTy) -> TensorType:
        if not is_tensor(a) or rank(a) != 2:
            raise self.fail(e, f"the left operand of '@' must be a matrix (a rank-2 tensor), got {show(a)}")
        if not is_tensor(b):
            raise self.fail(e, f"the right operand of '@' must be a tensor, got {show(b)}")
        if elem_of(a) != elem_of(b):
            raise self.fail(e, f"cannot multiply {show(a)} by {show(b)}: '@' takes tensors of one element type; "
                               f"convert one with {elem_of(a)}(...) or {elem_of(b)}(...)")
        inner, k = a.get_shape()[1], b.get_shape()[0]
        if inner >= 0 and k >= 0 and inner != k:
            what = f"the vector has {k} elements" if rank(b) == 1 else f"the right matrix has {k} rows"
            raise self.fail(e, f"cannot multiply {show(a)} by {show(b)}: the matrix has {inner} columns but {what}")
        if rank(b) == 1:
            return tensor_type(1, shape=[a.get_shape()[0]], elem=elem_of(a))
        return tensor_type(2, shape=[a.get_shape()[0], b.get_shape()[1]], elem=elem_of(a))

    def unary(self, e: ast.Unary) -> FTy:
        t = self.type_of(e.operand)
        if e.op == "!":
            if is_tensor(t) or t.elem != "bool":
                raise self.fail(e, f"'!' expects a bool, got {show(t)}")
            return t
        if is_tensor(t):
            return with_format(t, None)
        if t.elem == "bool":
            raise self.fail(e, "cannot negate a bool")
        return t

    RULES = {**ExprChecker.RULES, ast.Name: name, ast.Binary: binary, ast.Unary: unary, ast.Member: member,
             ast.Index: index, ast.Format: storage_format}

    def call_of(self, e: ast.Call) -> FTy:
        name = e.func
        if name in GRAPH_ONLY_FUNCS:
            raise self.fail(e, f"{name}() works on images and belongs to graphs, not fn programs")
        if name == "to":
            self.arity(e, 2, "a tensor and a storage format, as in to(A, csr)")
            return with_format(self._tensor_arg(e, 0), self.target_format(e))
        if name in ("rows", "cols", "nnz", "to_dense"):
            self.arity(e, 1, "a tensor")
            t = self._tensor_arg(e, 0)
            if name == "cols" and rank(t) != 2:
                raise self.fail(e, f"cols() needs a matrix, but {show(t)} is a vector; its length is rows()")
            return with_format(t, None) if name == "to_dense" else Ty("i32")
        if name == "fill":  # sizes are i32 whatever the value is: no literal is read as the value's type
            return self._fill(e, [self.type_of(a) for a in e.args])
        tys = self.operand_types(list(e.args))
        if name in TENSOR_REDUCTIONS and len(tys) == 1:
            if not is_tensor(tys[0]):
                raise self.fail(e, f"{name}() of one argument reduces a tensor, got {show(tys[0])}")
            return elem_ty(tys[0])
        if name in ("sum", "mean"):
            self.arity(e, 1, "a tensor")
        if name not in BUILTINS:
            raise self.fail(e, f"unknown function '{name}'" + did_you_mean(name, [*BUILTINS, *FN_FUNCTIONS]))
        if any(is_tensor(t) for t in tys):
            return self._elementwise_call(e, tys)
        elem = result_elem(name, tys, lambda m: self.fail(e, m))
        if Ty(elem).is_vector:
            raise self.fail(e, f"{name}() makes a {elem}; vectors belong to graphs, not fn programs")
        return Ty(elem)

    def _tensor_arg(self, e: ast.Call, i: int) -> TensorType:
        t = self.type_of(e.args[i])
        if not is_tensor(t):
            raise self.fail(e.args[i], f"{e.func}() expects a tensor, got {show(t)}")
        return t

    def target_format(self, e: ast.Call):
        """The format ``to(A, fmt)`` converts to (None: dense), checked against A's rank."""
        fmt = decls.format_attr(e.args[1], self.fail)
        if fmt is not None and fmt.kind.data == "auto":
            raise self.fail(e.args[1], AUTO_ONLY_PARAMS)
        if fmt is not None and rank(self.type_of(e.args[0])) != 2:
            raise self.fail(e.args[1], f"only rank-2 tensors (matrices) can be sparse, "
                                       f"not {show(self.type_of(e.args[0]))}")
        return fmt

    def _fill(self, e: ast.Call, tys: list[FTy]) -> TensorType:
        if len(tys) not in (2, 3):
            raise self.fail(e, f"fill() takes the sizes then the value, fill(n, v) or fill(m, n, v); "
                               f"got {len(tys)} argument{'s' if len(tys) != 1 else ''}")
        for a, t in zip(e.args[:-1], tys[:-1]):
            if is_tensor(t) or t.elem != "i32":
                raise self.fail(a, f"fill() sizes must be i32, got {show(t)}")
        v = tys[-1]
        if is_tensor(v) or v.elem not in ("f32", "i32", "f64", "i64"):
            raise self.fail(e.args[-1], f"the value of fill() must be a number, got {show(v)}")
        return tensor_type(len(tys) - 1, elem=fill_elem(v))

    def _elementwise_call(self, e: ast.Call, tys: list[FTy]) -> TensorType:
        name = e.func
        if name not in ELEMENTWISE_BUILTINS:
            raise self.fail(e, f"{name}() does not apply to tensors; elementwise functions are "
                               f"{', '.join(sorted(ELEMENTWISE_BUILTINS))}")
        arity = BUILTINS[name].arity
        if len(tys) not in arity:
            raise self.fail(e, f"{name} takes {' or '.join(map(str, arity))} argument"
                               f"{'s' if arity != (1,) else ''}, got {len(tys)}")
        for a, t in zip(e.args, tys):
            if not is_tensor(t) and t.elem == "bool":
                raise self.fail(a, f"{name}() expects numbers, got bool")
        elem = result_elem(name, [elem_ty(t) for t in tys], lambda m: self.fail(e, m))
        return broadcast([t for t in tys if is_tensor(t)], lambda m: self.fail(e, f"cannot apply {name}(): {m}"),
                         elem)

    def is_count(self, t: FTy) -> bool:
        return not is_tensor(t) and t.elem == "i32"

    def state_type(self, st: ast.StateInit, t: FTy) -> FTy:
        """A tensor state is dense and keeps its rank, but its sizes are dynamic: state
        may change size from one iteration to the next."""
        if not is_tensor(t):
            return t
        if format_of(t) is not None:
            raise self.fail(st.init, f"repeat state must be a dense tensor or a scalar, but this is "
                                     f"{show(t)}; convert it with to_dense()")
        return tensor_type(rank(t), elem=elem_of(t))


def fill_elem(value: Ty) -> str:
    """``fill(n, v)``: an f32 tensor for an f32 or i32 value (as it always was: ``fill(n,
    1)`` is f32), an f64/i64 tensor for a 64-bit value; ``i32(fill(n, 1))`` for i32."""
    return value.elem if value.elem in WIDE else "f32"
