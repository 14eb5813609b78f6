"""A problem that refuses a diagram's publication, and the error that carries every problem found.

A problem's message is a `Message` (an English id marked with `N_` and named parameters), so the web
layer shows it in the reader's language; `str(problem)` is the English text (the command line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.messages import Message


@dataclass(frozen=True)
class Problem:
    message: Message  # translated where it is shown (app.web.i18n.translate)
    element_id: str | None = None

    def __str__(self) -> str:
        """The English text, prefixed with the element's id: what the command line prints."""
        text = str(self.message)
        return f"{self.element_id}: {text}" if self.element_id else text


def problem(text: str, element_id: str | None = None, **params: Any) -> Problem:
    """A problem whose message is the English id `text` (marked with `N_` where it is written) and `params`."""
    return Problem(Message(text, params), element_id)


class ModelError(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(found) for found in problems))
