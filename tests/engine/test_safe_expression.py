"""Expressions from an uploaded diagram: the allowed subset evaluates over task data, anything else is
refused with a message naming the construct — and a refused expression never runs, not even in part."""

from __future__ import annotations

import pytest

from app.engine.safe_expression import ALLOWED_FUNCTIONS, MAX_LENGTH, UnsafeExpression, check, evaluate

DATA = {
    "handling": {"outcome": "resolved", "next_stage": None},
    "confirmation": {"resolved": False},
    "assessment": {"notify_by": "2026-03-02T02:00:00+00:00", "emergency": True},
    "x": "abc",
    "a": 2,
    "b": 3,
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        pytest.param('handling["outcome"] == "resolved"', True, id="compare-subscript"),
        pytest.param('handling["outcome"] != "resolved"', False, id="not-equal"),
        pytest.param('not confirmation["resolved"]', True, id="not"),
        pytest.param('assessment["notify_by"] is not None', True, id="is-not-none"),
        pytest.param('handling["next_stage"] is None', True, id="is-none"),
        pytest.param('"urgent" if assessment["emergency"] else "normal"', "urgent", id="ifexp"),
        pytest.param('"a" if confirmation["resolved"] else "b"', "b", id="ifexp-else"),
        pytest.param("len(x) > 2", True, id="len"),
        pytest.param('x in ["a", "abc"]', True, id="in-list"),
        pytest.param('x not in ("a", "b")', True, id="not-in-tuple"),
        pytest.param('{"kind": x, "items": [a, b]}', {"kind": "abc", "items": [2, 3]}, id="dict-list-literals"),
        pytest.param("-1", -1, id="unary-minus"),
        pytest.param("a + b", 5, id="add"),
        pytest.param("b - a", 1, id="sub"),
        pytest.param("a < b and not a >= b or False", True, id="boolops"),
        pytest.param("max(a, b) - min(a, b) + abs(-1)", 2, id="allowed-functions"),
        pytest.param('int("7") + len(str(a))', 8, id="int-str"),
        pytest.param("None", None, id="none-literal"),
        pytest.param("  a  ", 2, id="surrounding-space"),
    ],
)
def test_allowed_expressions_evaluate_over_task_data(expression, expected):
    check(expression)
    assert evaluate(expression, DATA) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        pytest.param('__import__("os")', "call of '__import__' is not allowed", id="import"),
        pytest.param('open("/etc/passwd")', "call of 'open' is not allowed", id="open"),
        pytest.param('eval("1")', "call of 'eval' is not allowed", id="eval"),
        pytest.param("().__class__.__base__.__subclasses__()", "attribute access '.__subclasses__'", id="subclasses"),
        pytest.param("x.__class__", "attribute access '.__class__' is not allowed", id="dunder-attribute"),
        pytest.param('"{0.__class__}".format(x)', "attribute access '.format'", id="format-string"),
        pytest.param("_private", "name '_private' is not allowed", id="underscore-name"),
        pytest.param("__builtins__", "name '__builtins__' is not allowed", id="builtins"),
        pytest.param("(len if x else str)(x)", "call of IfExp is not allowed", id="computed-callee"),
        pytest.param("lambda: 1", "Lambda is not allowed", id="lambda"),
        pytest.param("[c for c in x]", "ListComp is not allowed", id="comprehension"),
        pytest.param("x * 10", "Mult is not allowed", id="mult"),
        pytest.param("10**9", "Pow is not allowed", id="pow"),
        pytest.param("x[0:2]", "Slice is not allowed", id="slice"),
        pytest.param("(y := 1)", "NamedExpr is not allowed", id="walrus"),
        pytest.param('f"{x}"', "JoinedStr is not allowed", id="f-string"),
        pytest.param('"%s" % x', "Mod is not allowed", id="percent-format"),
        pytest.param("int(x, base=2)", "keyword arguments are not allowed", id="keyword-args"),
        pytest.param("len(*x)", "Starred is not allowed", id="star-args"),
        pytest.param("import os", "syntax error", id="import-statement"),
        pytest.param("x = 1", "syntax error", id="assignment"),
        pytest.param("a; b", "syntax error", id="two-statements"),
        pytest.param('handling["outcome" ==', "syntax error", id="syntax-error"),
        pytest.param("", "empty expression", id="empty"),
        pytest.param("   \n ", "empty expression", id="blank"),
        pytest.param("a" * (MAX_LENGTH + 1), f"longer than {MAX_LENGTH} characters", id="too-long"),
        pytest.param("-" * 998 + "1", "nested too deeply", id="too-deep"),  # RecursionError in compile before the fix
    ],
)
def test_refused_expressions_name_the_construct(expression, message):
    with pytest.raises(UnsafeExpression) as refused:
        check(expression)
    assert message in str(refused.value)


def test_attribute_chain_refused_whatever_the_data():
    """An attribute is never evaluated, so not even harmless-looking data attributes are reachable."""
    with pytest.raises(UnsafeExpression, match="attribute access '.upper'"):
        evaluate("x.upper()", DATA)


def test_longest_allowed_expression_is_accepted():
    expression = "a" + " " * (MAX_LENGTH - 1)
    assert len(expression) == MAX_LENGTH
    assert evaluate(expression, DATA) == 2


def test_no_builtins_beyond_the_allowed_functions():
    assert evaluate("open", {"open": "door"}) == "door"  # a variable named like a builtin is just data
    with pytest.raises(NameError):
        evaluate("print", {})
    with pytest.raises(NameError):
        evaluate("exec", {})
    for name in ALLOWED_FUNCTIONS:
        assert evaluate(name, {}) is ALLOWED_FUNCTIONS[name]


def test_data_cannot_replace_an_allowed_function():
    assert evaluate("len(x)", {"x": "abc", "len": "not a function"}) == 3


class Recorder:
    """Task data that records every use: proof that a refused expression ran no part of itself."""

    def __init__(self):
        self.calls: list[str] = []

    def __getitem__(self, key):
        self.calls.append(f"getitem {key!r}")
        return self

    def __eq__(self, other):
        self.calls.append("eq")
        return True

    __hash__ = object.__hash__

    def __bool__(self):
        self.calls.append("bool")
        return True


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param('x["a"] == 1 and __import__("os").system("true")', id="import-after-safe-part"),
        pytest.param('x["a"] == 1 or open("/etc/passwd")', id="open-after-safe-part"),
        pytest.param('x["a"] if x["b"] == 2 else x.__class__', id="attribute-in-else"),
        pytest.param('[x["a"] == 1, (y := x["b"])]', id="walrus-in-list"),
    ],
)
def test_refused_expression_runs_nothing(expression):
    recorder = Recorder()
    assert evaluate('x["probe"] == 1', {"x": recorder}) is True  # the recorder does record when run
    assert recorder.calls == ["getitem 'probe'", "eq"]
    recorder.calls.clear()
    with pytest.raises(UnsafeExpression):
        evaluate(expression, {"x": recorder})
    assert recorder.calls == []
