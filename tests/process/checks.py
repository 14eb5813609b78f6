"""Checking a diagram as publication does, and finding the problem a test expects among those it lists."""

from __future__ import annotations

from app.forms import read_form_files
from app.process import validation
from app.process.problems import Problem

FORMS = read_form_files()


def problems_of(text: bytes | str, forms=FORMS) -> list[Problem]:
    problems = validation.validate(text, forms)
    assert all(isinstance(problem, Problem) for problem in problems)
    return problems


def assert_problem(problems: list[Problem], element_id: str | None, *fragments: str) -> None:
    matching = [p for p in problems if p.element_id == element_id and all(f in str(p.message) for f in fragments)]
    assert matching, f"no problem for {element_id!r} saying {fragments!r} in {problems!r}"
