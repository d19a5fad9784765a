"""Parse ``.cn`` text into the AST (``ccomp.frontend.ast``) with located syntax errors.

The lark grammar lives in ``grammar.lark``; LALR keeps parsing linear and its
errors precise. The tree is converted afterwards by a lark ``Transformer`` (lark's
``meta`` is not available to the inline LALR transformer), so every AST node gets the
line and column of the first token it covers.
"""

from __future__ import annotations

from functools import lru_cache

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from ccomp.diagnostics import CompileError, Source, error_at
from ccomp.frontend import ast, literals
from ccomp.frontend.actor import rules as _actor
from ccomp.frontend.literals import LiteralError
from ccomp.frontend.network import parse_rules as _net
from ccomp.frontend.text import check_text

_TOKEN_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "QUANTITY": "a quantity with a unit",
    "LPAR": "'('", "RPAR": "')'", "LBRACE": "'{'", "RBRACE": "'}'", "LSQB": "'['", "RSQB": "']'",
    "COMMA": "','", "COLON": "':'", "EQUAL": "'='", "DOT": "'.'", "MORETHAN": "'>'", "LESSTHAN": "'<'",
    "ADD_OP": "'+' or '-'", "MUL_OP": "'*', '/' or '%'", "CMP_OP": "a comparison", "NEG": "'-'", "NOT": "'!'",
    "DIMS": "a size such as 512x512", "SHAPE": "a tensor shape such as ?xf32",
    "LET": "'let'", "RETURN": "'return'", "YIELD": "'yield'", "GRAPH": "'graph'", "FN": "'fn'",
    "$END": "the end of the file",
}

# Declarations the language has but this version of ccomp does not compile yet; they
# are reported where the parser meets one in place of a declaration.
_UNSUPPORTED: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark.open("grammar.lark", rel_to=__file__, parser="lalr", propagate_positions=True,
                     maybe_placeholders=True)


def _meta_pos(meta) -> ast.Pos:
    """The position of a subtree's first token; an empty match has none (1:1)."""
    return ast.Pos(getattr(meta, "line", 1), getattr(meta, "column", 1))


def _pos(item: Tree | Token) -> ast.Pos:
    if isinstance(item, Token):
        return ast.Pos(item.line or 1, item.column or 1)
    return _meta_pos(item.meta)


def _decl(kind: str, p: ast.Pos, c: list) -> ast.GraphDecl:
    name, params, results, body = c
    return ast.GraphDecl(p, kind, str(name), tuple(params or ()), tuple(results), body)


def _located(f, _data, children, meta):
    """Call a rule's method with the node's position and its converted children."""
    return f(_meta_pos(meta), children)


@v_args(wrapper=_located)
class _ToAst(Transformer):
    """Bottom-up conversion of the lark tree: lark calls the method named after each
    rule (``tests/frontend`` checks that every rule of the grammar has one) with the
    position of the rule's first token (1:1 for an empty match) and its children."""

    def start(self, p, c):
        return list(c)

    def graph_decl(self, p, c):
        return _decl("graph", p, c)

    def fn_decl(self, p, c):
        return _decl("fn", p, c)

    def params(self, p, c):
        return list(c)

    def param(self, p, c):
        name, typ, default = c
        return ast.Param(_pos(name), str(name), typ, default)

    def single_result(self, p, c):
        return [ast.Result(p, None, c[0])]

    def result_list(self, p, c):
        return list(c)

    def named_result(self, p, c):
        return ast.Result(_pos(c[0]), str(c[0]), c[1])

    def unnamed_result(self, p, c):
        return ast.Result(p, None, c[0])

    def type(self, p, c):
        name, *args = c
        return ast.TypeRef(_pos(name), str(name), tuple(a for a in args if a is not None))

    def dims(self, p, c):
        return ast.DimsArg(_pos(c[0]), literals.sizes(str(c[0])))

    def shape(self, p, c):
        literals.check_shape(str(c[0]))
        return ast.ShapeArg(_pos(c[0]), str(c[0]))

    def format(self, p, c):
        return ast.Format(_pos(c[0]), str(c[0]), literals.sizes(str(c[1]), "block size"))

    def block(self, p, c):
        return ast.Block(p, tuple(c))

    def let_stmt(self, p, c):
        return ast.Let(p, str(c[0]), c[1])

    def return_stmt(self, p, c):
        return ast.Return(p, tuple(c))

    def yield_stmt(self, p, c):
        return ast.Yield(p, tuple(c))

    def repeat_expr(self, p, c):
        count, *rest = c
        body = rest[-1]
        states = tuple(s for s in rest[:-1] if s is not None)
        return ast.Repeat(p, count, states, body)

    def state(self, p, c):
        return ast.StateInit(_pos(c[0]), str(c[0]), c[1])

    def or_(self, p, c):
        return ast.Binary(c[0].pos, "||", c[0], c[1])

    def and_(self, p, c):
        return ast.Binary(c[0].pos, "&&", c[0], c[1])

    def compare(self, p, c):
        return ast.Binary(_pos(c[1]), str(c[1]), c[0], c[2])

    def binary(self, p, c):
        return ast.Binary(_pos(c[1]), str(c[1]), c[0], c[2])

    def unary_op(self, p, c):
        return ast.Unary(_pos(c[0]), str(c[0]), c[1])

    def member(self, p, c):
        return ast.Member(_pos(c[1]), c[0], str(c[1]))

    def index(self, p, c):
        return ast.Index(c[0].pos, c[0], tuple(c[1:]))

    def number(self, p, c):
        text = str(c[0])
        is_float = any(ch in text for ch in ".eE")
        return ast.Number(p, float(text) if is_float else literals.integer(text), is_float, text)

    def quantity(self, p, c):
        return ast.Quantity(p, *literals.quantity(str(c[0])))

    def string(self, p, c):
        return ast.String(p, str(c[0])[1:-1])

    def true(self, p, c):
        return ast.Bool(p, True)

    def false(self, p, c):
        return ast.Bool(p, False)

    def name(self, p, c):
        return ast.Name(p, str(c[0]))

    def call(self, p, c):
        name, *args = c
        args = [a for a in args if a is not None]
        pos_args = tuple(a for a in args if not isinstance(a, ast.KwArg))
        kwargs = tuple(a for a in args if isinstance(a, ast.KwArg))
        return ast.Call(_pos(name), str(name), pos_args, kwargs)

    def kwarg(self, p, c):
        return ast.KwArg(_pos(c[0]), str(c[0]), c[1])

    # network declarations: ccomp/frontend/network/parse_rules.py
    network_decl = _net.network_decl
    net_input = _net.net_input
    net_layer = _net.net_layer
    net_learn = _net.net_learn
    net_return = _net.net_return
    net_conn = _net.net_conn
    net_pair = _net.net_pair
    net_out_pair = _net.net_out_pair

    # actor declarations: ccomp/frontend/actor/rules.py
    message_decl = _actor.message_decl
    msg_field = _actor.msg_field
    actor_def = _actor.actor_def
    queue_decl = _actor.queue_decl
    delivery_decl = _actor.delivery_decl  # scale-out (docs/scaleout.md)
    checkpoint_decl = _actor.checkpoint_decl
    state_decl = _actor.state_decl
    handler_decl = _actor.handler_decl
    assign_stmt = _actor.assign_stmt
    reply_stmt = _actor.reply_stmt
    send_stmt = _actor.send_stmt
    field_init = _actor.field_init
    pipeline_decl = _actor.pipeline_decl
    stage_one = _actor.stage_one
    stage_group = _actor.stage_group


# Listed first when expected: an unclosed bracket is the likeliest cause of an error.
_CLOSERS = ("RBRACE", "RPAR", "RSQB")


def _key(terminal: str) -> str:
    """A terminal's name, or for anonymous ones (lark's ``__ANON_n``) its literal text."""
    if terminal.startswith("__"):
        for t in _parser().terminals:
            if t.name == terminal and t.pattern.type == "str":
                return t.pattern.value
    return terminal


def _word(key: str) -> str:
    if key in _TOKEN_WORDS:
        return _TOKEN_WORDS[key]
    return f"'{key.lower()}'" if key.isupper() else f"'{key}'"  # keywords, '->', '&&'


# Where any expression may start or any operator may follow, say so instead of listing tokens.
_GROUPS = (
    ("an expression", {"NAME", "NUMBER"},
     {"NAME", "NUMBER", "QUANTITY", "STRING", "LPAR", "NEG", "NOT", "TRUE", "FALSE", "REPEAT", "DIMS"}),
    ("an operator", {"ADD_OP", "MUL_OP"}, {"ADD_OP", "MUL_OP", "CMP_OP", "DOT", "LSQB", "LPAR", "&&", "||"}),
)


def _describe_expected(expected: set[str]) -> str:
    keys = {_key(e) for e in expected}
    words = [_TOKEN_WORDS[k] for k in _CLOSERS if k in keys]
    keys -= set(_CLOSERS)
    for word, trigger, members in _GROUPS:
        if trigger <= keys:
            words.append(word)
            keys -= members
    words += sorted(_word(k) for k in keys)
    if len(words) > 6:
        words = words[:6] + ["..."]
    return ", ".join(words)


_PAIRS = {"LBRACE": "RBRACE", "LPAR": "RPAR", "LSQB": "RSQB"}


def _eof_error(source: Source, expected: set[str]) -> CompileError:
    """Reported just after the last token (the text lexes cleanly, or lark would not
    have reached its end), naming the innermost bracket left open if it may close here."""
    stack: list[Token] = []
    line, col = 1, 1
    for tok in _parser().lex(source.text):
        line, col = tok.end_line, tok.end_column
        if tok.type in _PAIRS:
            stack.append(tok)
        elif stack and tok.type == _PAIRS[stack[-1].type]:
            stack.pop()
    opener = stack[-1] if stack else None
    if opener is not None and _PAIRS[opener.type] in expected:
        return error_at(source, line, col, f"unexpected end of file: the '{opener}' at "
                                           f"{opener.line}:{opener.column} is never closed")
    return error_at(source, line, col, f"unexpected end of file; expected {_describe_expected(expected)}")


def _syntax_error(source: Source, exc: UnexpectedInput) -> CompileError:
    line, col = exc.line if exc.line > 0 else 1, exc.column if exc.column > 0 else 1
    if isinstance(exc, UnexpectedCharacters):
        ch = source.line_text(line)[col - 1 : col] or "?"
        return error_at(source, line, col, f"unexpected character '{ch}'")
    if isinstance(exc, UnexpectedEOF):
        return _eof_error(source, set(exc.expected))
    assert isinstance(exc, UnexpectedToken)
    tok, expected = exc.token, set(exc.expected)
    try:  # LALR merges states, so exc.expected may list tokens that cannot follow here
        expected = exc.interactive_parser.accepts() - {"$END"} or expected
    except Exception:  # pragma: no cover - accepts() replays the parse; keep the plain set
        pass
    if tok.type == "$END":
        return _eof_error(source, expected)
    if tok.type == "NAME" and str(tok) in _UNSUPPORTED and {"GRAPH", "FN"} <= expected:
        return error_at(source, line, col, f"'{tok}' declarations are not supported yet by this version of ccomp")
    return error_at(source, line, col, f"unexpected '{tok}'; expected {_describe_expected(expected)}")


# Checking, IR generation and passes recurse over expressions; deeper nesting than
# this would exhaust Python's stack (about 200 levels measured), so it is an error.
MAX_DEPTH = 128


def _check_depth(source: Source, tree: Tree) -> None:
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            p = _pos(node)
            raise error_at(source, p.line, p.col, f"expression nested too deeply (more than {MAX_DEPTH} levels)")
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, Tree))


def parse(source: Source) -> ast.Program:
    """Parse a whole program; raises :class:`CompileError` on any syntax error, on a
    character a program may not hold (:mod:`ccomp.frontend.text`) and on a literal out
    of range (:mod:`ccomp.frontend.literals`)."""
    check_text(source)
    try:
        tree = _parser().parse(source.text)
    except UnexpectedInput as exc:
        raise _syntax_error(source, exc) from None
    _check_depth(source, tree)
    try:
        decls = _ToAst().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, LiteralError):  # reported at the token it is about
            p = _pos(exc.obj)
            raise error_at(source, p.line, p.col, exc.orig_exc.message) from None
        raise exc.orig_exc from None  # pragma: no cover - conversion raises nothing else
    return ast.Program(ast.Pos(1, 1), source.name, tuple(decls))
