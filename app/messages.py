"""User-facing messages from code below the web layer: an English message id and its parameters.

The web layer translates them where they are shown (Flask-Babel, domain "messages"); the service,
the engine and the form checks stay free of Flask. `N_` only marks a string for extraction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def N_(text: str) -> str:
    return text


@dataclass(frozen=True)
class Message:
    text: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text % dict(self.params) if self.params else self.text
