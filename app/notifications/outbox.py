"""Writing notifications: one outbox row per (event, recipient, channel), in the caller's transaction.

The key `event:recipient:channel` is unique, so writing the same event twice (an action retried, a
task seen again) adds nothing: each person hears of each event once per channel.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, lazyload

from app.models import User, UserRole
from app.notifications.messages import locale_of
from app.notifications.models import PENDING, SENT, Notification

INAPP = "inapp"
EMAIL = "email"
SMS = "sms"
WECOM = "wecom"
DINGTALK = "dingtalk"
CHANNELS = (INAPP, EMAIL, SMS, WECOM, DINGTALK)

ADDRESS = {EMAIL: "email", SMS: "mobile", WECOM: "wecom_id", DINGTALK: "dingtalk_id"}  # the User column


def channels_for(user: User) -> list[str]:
    """The channels a person is reached on: in the app always, and by e-mail when they have an address."""
    return [INAPP, EMAIL] if user.email else [INAPP]


def members(session: Session, *roles: str) -> list[User]:
    """The active accounts holding any of `roles`."""
    return list(
        session.scalars(
            select(User)
            .where(User.active.is_(True), User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(roles))))
            .options(lazyload(User.role_rows))  # their roles are not needed: no second query
            .order_by(User.id)
        )
    )


class Outbox:
    """Collects the rows of one action; `flush` inserts those whose key is not written yet."""

    def __init__(self, session: Session, now: datetime):
        self.session, self.now = session, now
        self.rows: dict[str, dict[str, Any]] = {}
        self.reached: set[int] = set()  # people this action already tells something

    def add(
        self,
        event: str,
        kind: str,
        recipients: Iterable[User],
        params: Mapping[str, Any],
        *,
        incident_id: int | None = None,
        skip: int | None = None,
    ) -> None:
        for user in recipients:
            if user.id == skip or not user.active:
                continue
            self.reached.add(user.id)
            personal = json.dumps({**params, "name": user.display_name}, ensure_ascii=False, sort_keys=True)
            for channel in channels_for(user):
                key = f"{event}:{user.id}:{channel}"
                if key in self.rows:
                    continue
                inapp = channel == INAPP
                self.rows[key] = dict(
                    key=key,
                    kind=kind,
                    incident_id=incident_id,
                    recipient_id=user.id,
                    recipient_name=user.display_name,
                    channel=channel,
                    address=getattr(user, ADDRESS[channel]) if channel in ADDRESS else None,
                    locale=locale_of(user.locale),
                    params=personal,
                    status=SENT if inapp else PENDING,  # in the app, written is delivered
                    attempts=0,
                    next_attempt_at=self.now,
                    created_at=self.now,
                    sent_at=self.now if inapp else None,
                    lease_until=None,
                    last_error=None,
                    read_at=None,
                )

    def flush(self) -> None:
        """One INSERT … ON CONFLICT (key) DO NOTHING: a key written before (or by a concurrent action) stays."""
        if not self.rows:
            return
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        self.session.execute(
            dialect.insert(Notification).on_conflict_do_nothing(index_elements=["key"]), list(self.rows.values())
        )
        self.rows = {}
