"""A person's stored notification choices: channels per kind, and quiet hours (audited on change)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import audit
from app.audit import Actor
from app.messages import N_, Message
from app.models import User
from app.notifications import preferences
from app.notifications.models import Preference, QuietHours


@dataclass(frozen=True)
class Choices:
    channels: Mapping[str, tuple[str, ...]]  # kind → external channels in effect
    own: frozenset[str]  # the kinds the person chose themself (the others follow their roles)
    quiet: tuple[str, str] | None


def load(session: Session, user: User) -> Choices:
    query = select(Preference.kind, Preference.channels).where(Preference.user_id == user.id)
    stored = dict(session.execute(query).all())
    quiet = session.get(QuietHours, user.id)
    kinds = preferences.kinds_for(user.roles)
    return Choices(
        {kind: preferences.channels(kind, user.roles, stored.get(kind)) for kind in kinds},
        frozenset(stored) & set(kinds),
        (quiet.starts, quiet.ends) if quiet else None,
    )


def check_quiet(starts: str, ends: str) -> tuple[tuple[str, str] | None, dict[str, Message]]:
    """Quiet hours from the form: both times or neither (HH:MM)."""
    starts, ends = starts.strip(), ends.strip()
    if not starts and not ends:
        return None, {}
    errors = {}
    for name, value in (("quiet_starts", starts), ("quiet_ends", ends)):
        if not preferences.HHMM.match(value):
            errors[name] = Message(N_("Enter a time such as 22:00."))
    if not errors and starts == ends:
        errors["quiet_ends"] = Message(N_("Quiet hours must end at another time than they start."))
    return (None, errors) if errors else ((starts, ends), {})


def save(
    session: Session, user: User, chosen: Mapping[str, Sequence[str]], quiet: tuple[str, str] | None,
    actor: Actor, now: datetime,
) -> None:  # fmt: skip
    """Store the person's channels for every kind their page offers, and their quiet hours."""
    kinds = preferences.kinds_for(user.roles)
    session.execute(delete(Preference).where(Preference.user_id == user.id))
    for kind in kinds:
        picked = [channel for channel in preferences.EXTERNAL if channel in chosen.get(kind, ())]
        session.add(Preference(user_id=user.id, kind=kind, channels=",".join(picked)))
    _set_quiet(session, user, quiet)
    audit.append(session, kind="notification_preferences_changed", actor=actor, at=now,
                 data={"user": user.username, "channels": {kind: list(chosen.get(kind, ())) for kind in kinds},
                       "quiet": list(quiet) if quiet else None})  # fmt: skip


def reset(session: Session, user: User, actor: Actor, now: datetime) -> None:
    """Back to the roles' defaults (quiet hours stay)."""
    session.execute(delete(Preference).where(Preference.user_id == user.id))
    audit.append(session, kind="notification_preferences_changed", actor=actor, at=now,
                 data={"user": user.username, "channels": "defaults"})  # fmt: skip


def _set_quiet(session: Session, user: User, quiet: tuple[str, str] | None) -> None:
    row = session.get(QuietHours, user.id)
    if quiet is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(QuietHours(user_id=user.id, starts=quiet[0], ends=quiet[1]))
    else:
        row.starts, row.ends = quiet
