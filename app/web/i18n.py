"""Languages: Simplified Chinese by default, English per user.

Two message domains: `messages` holds the strings of the code and templates (English ids, with a
Chinese catalog); `content` holds the Chinese labels that come with the process (BPMN names,
form titles and choices), with an English catalog. Either catalog missing a string shows the id.

A request finds its two catalogs once (`catalogs()`): flask-babel finds them again on every call
(the request context, the locale, its cache keyed by the locale's name), about 50 times the cost of
the catalog look-up itself, and a 50-row list translates a few hundred labels (docs/bench.md).
Templates, the labels of stored codes (app/web/labels.py) and times (app/web/timefmt.py) translate
through it; other code may keep flask-babel's `gettext`, which gives the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.support import NullTranslations
from flask import Flask, g, session
from flask.globals import _cv_app
from flask_babel import Babel, Domain, get_locale, get_translations
from flask_babel import gettext as _
from markupsafe import Markup

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


@dataclass(frozen=True)
class Catalogs:
    messages: NullTranslations  # the app's strings
    content: NullTranslations  # the process's labels
    default: bool  # the default locale: the process's labels are shown as they are


def catalogs() -> Catalogs | None:
    """This request's catalogs, found on the first call. Kept in flask-babel's own per-request place
    (`babel_translations`, which its `refresh()` and `force_locale()` clear), so a change of locale
    within a request is followed. None outside a request."""
    context = _cv_app.get(None)  # the app context itself: `g` through its proxy costs more than the look-up
    if context is None:
        return None
    found = getattr(context.g.__dict__.get("_flask_babel"), "babel_translations", None)
    if found is None:
        locale = get_locale()  # also creates flask-babel's per-request namespace
        found = Catalogs(get_translations(), content_domain.get_translations(), str(locale) == DEFAULT_LOCALE)
        context.g._flask_babel.babel_translations = found
    return found


def gettext(string: str, **variables: Any) -> str:
    """flask-babel's `gettext`, with the catalog found once per request."""
    bound = catalogs()
    if bound is None:
        return _(string, **variables)
    text = bound.messages.ugettext(string)
    return text % variables if variables else text


def init(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.install_gettext_callables(  # what Babel installed, with the catalog found once per request
        gettext=lambda s: _messages().ugettext(s),
        ngettext=lambda s, p, n: _messages().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _messages().upgettext(c, s),
        npgettext=lambda c, s, p, n: _messages().unpgettext(c, s, p, n),
    )
    # `_()` in a template without Jinja's three context-passing calls per use (most of its cost): every
    # template of the app is HTML, autoescaped, so the result is what Jinja's newstyle gettext gives
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext)
    app.jinja_env.globals.update(content=content, translate=translate, languages=LANGUAGES, current_locale=get_locale)


def _template_gettext(string: str, **variables: Any) -> Markup:
    """Jinja's newstyle gettext in an autoescaped template: the translation is markup, the variables
    are escaped, and the text is always a format string (`%%` is `%`)."""
    return Markup(_messages().ugettext(string)) % variables


def _messages() -> NullTranslations:
    bound = catalogs()
    return bound.messages if bound is not None else get_translations()


def content(text: str | None) -> str:
    """A label that came with the process (Chinese), in the reader's language."""
    if not text:
        return ""
    bound = catalogs()
    if bound is None:
        return content_domain.gettext(text) if str(get_locale()) != DEFAULT_LOCALE else text
    return text if bound.default else bound.content.ugettext(text)


def translate(message: Message | str | None) -> str:
    """A message from below the web layer, in the reader's language."""
    if message is None:
        return ""
    if isinstance(message, Message):  # parameters may be messages themselves (a problem's detail)
        return gettext(message.text, **{key: translate(value) if isinstance(value, Message) else value
                                        for key, value in message.params.items()})  # fmt: skip
    return gettext(message)
