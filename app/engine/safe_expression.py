"""Expressions in a BPMN file are code: only a small, side-effect-free subset of Python may run.

Gateway conditions, timer expressions, service-task parameters and signal payloads are all
evaluated by SpiffWorkflow with `eval`. A diagram uploaded by a process owner must not be able to
run anything else, so every expression is parsed and its syntax tree checked against a whitelist —
when a version is published and again each time the engine evaluates it.

Allowed: literals, names (task-data variables; none starting with `_`), subscripts, comparisons,
`and`/`or`/`not`, `+`/`-`, conditional expressions, list/tuple/dict literals and calls to the few
functions in `ALLOWED_FUNCTIONS`. Attribute access is not allowed at all: it is the road to every
known escape (`().__class__.__base__.__subclasses__()`, `"{0.__class__}".format(x)`).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from functools import lru_cache
from types import CodeType
from typing import Any

from app.messages import N_, Message

MAX_LENGTH = 1000

ALLOWED_FUNCTIONS: dict[str, Any] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "bool": bool,
    "int": int,
    "str": str,
}

ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Subscript,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Is,
    ast.IsNot,
    ast.In,
    ast.NotIn,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.IfExp,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Call,
)


class UnsafeExpression(ValueError):
    """The expression is not in the allowed subset (or is not an expression at all)."""

    def __init__(self, text: str, **params: Any):
        self.message = Message(text, params)
        super().__init__(str(self.message))


def check(expression: str) -> None:
    """Raise UnsafeExpression with a message naming the first offending construct."""
    _compile(expression)


def evaluate(expression: str, variables: Mapping[str, Any]) -> Any:
    """Evaluate a checked expression over task data; nothing but the data and the allowed functions is visible."""
    code = _compile(expression)
    names = {**variables, **ALLOWED_FUNCTIONS}
    return eval(code, {"__builtins__": {}}, names)  # noqa: S307 — the tree was whitelisted above


@lru_cache(maxsize=2048)
def _compile(expression: str) -> CodeType:
    if not isinstance(expression, str) or not expression.strip():
        raise UnsafeExpression(N_("empty expression"))
    if len(expression) > MAX_LENGTH:
        raise UnsafeExpression(N_("expression longer than %(limit)s characters"), limit=MAX_LENGTH)
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise UnsafeExpression(
            N_("syntax error: %(detail)s (column %(column)s)"), detail=error.msg, column=error.offset
        ) from None
    except (RecursionError, MemoryError):
        raise UnsafeExpression(N_("expression is nested too deeply")) from None
    for node in ast.walk(tree):
        _check_node(node)
    try:
        return compile(tree, "<bpmn expression>", "eval")
    except (RecursionError, MemoryError):  # e.g. "-" repeated 999 times: parses, but too deep to compile
        raise UnsafeExpression(N_("expression is nested too deeply")) from None


def _check_node(node: ast.AST) -> None:
    if not isinstance(node, ALLOWED_NODES):
        raise UnsafeExpression(N_("%(construct)s is not allowed"), construct=_describe(node))
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        raise UnsafeExpression(N_("name '%(name)s' is not allowed (names may not start with '_')"), name=node.id)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in ALLOWED_FUNCTIONS:
            allowed = ", ".join(sorted(ALLOWED_FUNCTIONS))
            raise UnsafeExpression(
                N_("call of %(construct)s is not allowed (allowed: %(allowed)s)"),
                construct=_describe(node.func),
                allowed=allowed,
            )
        if node.keywords:
            raise UnsafeExpression(N_("keyword arguments are not allowed"))


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return f"'{node.id}'"
    if isinstance(node, ast.Attribute):
        return f"attribute access '.{node.attr}'"
    return type(node).__name__
