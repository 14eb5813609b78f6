"""Languages: Simplified Chinese by default, English per user.

Two message domains: `messages` holds the strings of the code and templates (English ids, with a
Chinese catalog); `content` holds the Chinese labels that come with the process (BPMN names,
form titles and choices), with an English catalog. Either catalog missing a string shows the id.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, session
from flask_babel import Babel, Domain, get_locale
from flask_babel import gettext as _

from app.messages import Message

LANGUAGES = {"zh": "简体中文", "en": "English"}
DEFAULT_LOCALE = "zh"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"

content_domain = Domain(translation_directories=[str(TRANSLATIONS)], domain="content")


def select_locale() -> str:
    user = g.get("user")
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    if session.get("locale") in LANGUAGES:
        return session["locale"]
    return DEFAULT_LOCALE  # the team works in Chinese, whatever the browser says


def init(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(content=content, translate=translate, languages=LANGUAGES, current_locale=get_locale)


def content(text: str | None) -> str:
    """A label that came with the process (Chinese), in the reader's language."""
    if not text:
        return ""
    return content_domain.gettext(text) if str(get_locale()) != DEFAULT_LOCALE else text


def translate(message: Message | str | None) -> str:
    """A message from below the web layer, in the reader's language."""
    if message is None:
        return ""
    if isinstance(message, Message):  # parameters may be messages themselves (a problem's detail)
        return _(message.text, **{key: translate(value) if isinstance(value, Message) else value
                                  for key, value in message.params.items()})  # fmt: skip
    return _(message)
