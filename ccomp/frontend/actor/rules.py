"""The parser's transformer rules for actor declarations (the ``// actors`` block of
``grammar.lark``). ``ccomp.frontend.parser._ToAst`` takes each function as the method
of the rule of the same name; like its own rules each gets the position of the rule's
first token and its converted children."""

from __future__ import annotations

from lark import Token

from ccomp.frontend import ast
from ccomp.frontend.actor import ast as actor_ast


def _ident(tok: Token) -> actor_ast.Ident:
    return actor_ast.Ident(ast.Pos(tok.line or 1, tok.column or 1), str(tok))


def _fields(c: list) -> tuple:
    return tuple(x for x in c if x is not None)


def message_decl(self, p, c):
    return actor_ast.MessageDecl(p, str(c[0]), _fields(c[1:]))


def msg_field(self, p, c):
    return actor_ast.FieldDecl(_ident(c[0]).pos, str(c[0]), c[1])


def actor_def(self, p, c):
    return actor_ast.ActorDecl(p, str(c[0]), tuple(c[1:]))


def queue_decl(self, p, c):
    return actor_ast.QueueDecl(p, _ident(c[0]), _ident(c[1]))


def delivery_decl(self, p, c):
    return actor_ast.DeliveryDecl(p, _ident(c[0]))


def checkpoint_decl(self, p, c):
    return actor_ast.CheckpointDecl(p, _ident(c[0]))


def state_decl(self, p, c):
    return actor_ast.StateDecl(_ident(c[0]).pos, str(c[0]), c[1], c[2])


def handler_decl(self, p, c):
    message, param, reply, *body = c
    return actor_ast.HandlerDecl(p, _ident(message), _ident(param),
                                 _ident(reply) if reply is not None else None, tuple(body))


def assign_stmt(self, p, c):
    return actor_ast.Assign(_ident(c[0]).pos, str(c[0]), c[1])


def reply_stmt(self, p, c):
    return actor_ast.Reply(p, _ident(c[0]), _fields(c[1:]))


def send_stmt(self, p, c):
    return actor_ast.Send(p, _ident(c[0]), _ident(c[1]), _fields(c[2:]))


def field_init(self, p, c):
    return actor_ast.FieldInit(_ident(c[0]).pos, str(c[0]), c[1])


def pipeline_decl(self, p, c):
    return actor_ast.PipelineDecl(p, str(c[0]), tuple(c[1:]))


def stage_one(self, p, c):
    return (_ident(c[0]),)


def stage_group(self, p, c):
    return tuple(_ident(t) for t in c)

