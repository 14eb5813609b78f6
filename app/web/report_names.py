"""Report keys and figures in words, for the reports page and its CSV downloads (a key not set has
the names every page uses: `labels.NOT_CLASSIFIED`, `labels.NO_LEVEL`)."""

from __future__ import annotations

from flask_babel import gettext as _

from app.reports.filters import NONE, split_group
from app.web.labels import GROUPS, LEVELS, NO_LEVEL, NOT_CLASSIFIED, ROLES, STAGES, TYPES, label


def type_name(key: str | None) -> str:
    return _(NOT_CLASSIFIED) if key in (None, NONE) else label(TYPES, key)


def level_name(key: str | None) -> str:
    return _(NO_LEVEL) if key in (None, NONE) else label(LEVELS, key)


def group_name(key: str | None) -> str:
    """A support-group key in words: "second_line:development" → "Second line · Development group"."""
    if key in (None, NONE):
        return _("Unknown")
    stage, group = split_group(key)
    if stage == "second_line" and group is None:
        return _("Second line (all groups)")
    name = label(STAGES, stage)
    return f"{name} · {label(GROUPS, group)}" if group else name


def roles_name(roles: str | None) -> str:
    """A roles label as recorded ("first_line,second_line_dev") in words; "" (no role) → "—"."""
    if not roles:
        return "—"
    return " + ".join(label(ROLES, role) for role in roles.split(","))


def percent(value: float | None) -> str:
    """0.5 → "50%", 1/3 → "33.3%", None → "—"."""
    if value is None:
        return "—"
    text = f"{value * 100:.1f}".removesuffix(".0")
    return f"{text}%"


def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"
