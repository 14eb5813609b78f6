"""Where a person is reached: e-mail, mobile, WeCom and DingTalk ids, edited by the person or an
administrator (audited, without the values' history beyond the audit row)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from app import audit
from app.audit import Actor
from app.messages import N_, Message
from app.models import User

FIELDS = ("email", "mobile", "wecom_id", "dingtalk_id")
LIMITS = {name: getattr(User, name).type.length for name in FIELDS}
_PATTERNS = {
    "email": (re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), N_("Enter an e-mail address such as name@example.com.")),
    "mobile": (re.compile(r"^\+?[0-9]{5,15}$"), N_("Enter a mobile number: digits, optionally starting with +.")),
    "wecom_id": (re.compile(r"^[A-Za-z0-9._@-]+$"), N_("Use letters, digits and . _ @ - only.")),
    "dingtalk_id": (re.compile(r"^[A-Za-z0-9._@-]+$"), N_("Use letters, digits and . _ @ - only.")),
}


def clean(values: Mapping[str, str]) -> tuple[dict[str, str | None], dict[str, Message]]:
    """The contact fields as stored (blank → None, spaces and dashes out of a mobile number), and errors."""
    result: dict[str, str | None] = {}
    errors: dict[str, Message] = {}
    for name in FIELDS:
        text = (values.get(name) or "").strip()
        if name == "mobile":
            text = re.sub(r"[\s-]", "", text)
        if not text:
            result[name] = None
            continue
        pattern, message = _PATTERNS[name]
        if len(text) > LIMITS[name]:
            errors[name] = Message(N_("Too long (at most %(limit)s characters)"), {"limit": LIMITS[name]})
        elif not pattern.match(text):
            errors[name] = Message(message)
        result[name] = text
    return result, errors


def update(session: Session, user: User, values: Mapping[str, str | None], actor: Actor, now: datetime) -> list[str]:
    """Store cleaned values; returns the names of the fields that changed (audited by name only)."""
    changed = [name for name in FIELDS if getattr(user, name) != values[name]]
    for name in changed:
        setattr(user, name, values[name])
    if changed:
        audit.append(session, kind="contact_updated", actor=actor, at=now,
                     data={"user": user.username, "fields": changed})  # fmt: skip
    return changed
