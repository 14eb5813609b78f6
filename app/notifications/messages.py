"""What a notification says: one text template per kind and language
(app/templates/notifications/messages/<locale>/<kind>.txt; the first line is the subject).

Rows keep the template's parameters, not the text: the worker renders a message when it delivers it
and the notification centre when it shows it, in the recipient's language, with the link to the
incident built from BASE_URL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "notifications" / "messages"

LEVELS = {
    "zh": {"minor": "轻微", "yellow": "黄色", "orange": "橙色", "red": "红色", "black": "黑色"},
    "en": {"minor": "Minor", "yellow": "Yellow", "orange": "Orange", "red": "Red", "black": "Black"},
}
UNLEVELLED = {"zh": "未定级", "en": "no level"}

_env = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=False, undefined=StrictUndefined, keep_trailing_newline=False
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str  # plain text, ending with the link
    link: str


@dataclass(frozen=True)
class Site:
    """Where links point and in which zone times are shown (from the app's configuration)."""

    base_url: str = "http://127.0.0.1:5000"
    timezone: str = "Asia/Shanghai"


def locale_of(preferred: str | None) -> str:
    return preferred if preferred in LOCALES else DEFAULT_LOCALE


def render(kind: str, locale: str, params: Mapping[str, Any] | str, site: Site) -> Rendered:
    values = json.loads(params) if isinstance(params, str) else dict(params)
    locale = locale_of(locale)
    link = site.base_url.rstrip("/") + values.get("path", "/")
    zone = ZoneInfo(site.timezone)

    def local(text: str | None) -> str:
        return datetime.fromisoformat(text).astimezone(zone).strftime("%Y-%m-%d %H:%M") if text else ""

    def level(code: str | None) -> str:
        return LEVELS[locale].get(code or "", UNLEVELLED[locale])

    text = _env.get_template(f"{locale}/{kind}.txt").render(**values, link=link, local=local, level=level)
    subject, _, body = text.partition("\n")
    return Rendered(subject.strip(), body.strip() + "\n", link)


def kinds() -> list[str]:
    """Every kind with a template (each exists in every language: tests/notifications check it)."""
    return sorted(path.stem for path in (TEMPLATES / DEFAULT_LOCALE).glob("*.txt"))
