"""The notification centre: a person's in-app notifications, unread first counted for the bell."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from app.notifications.messages import Site, render
from app.notifications.models import FAILED, PENDING, SENDING, Notification
from app.notifications.outbox import INAPP

PAGE = 100


@dataclass(frozen=True)
class Item:
    id: int
    kind: str
    subject: str
    body: str
    path: str
    created_at: datetime
    read: bool


def _mine(user_id: int):
    return (Notification.recipient_id == user_id, Notification.channel == INAPP)


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(unread_query(user_id)) or 0


def unread_query(user_id: int) -> Select:
    """The count of one's unread notifications, to read alone or with other counts (app.live.service)."""
    return select(func.count()).where(*_mine(user_id), Notification.read_at.is_(None))


def latest(session: Session, user_id: int, locale: str, site: Site, limit: int = PAGE) -> list[Item]:
    """The newest notifications, in the reader's language now (not the one they had when written)."""
    rows = session.scalars(select(Notification).where(*_mine(user_id)).order_by(Notification.id.desc()).limit(limit))
    items = []
    for row in rows:
        message = render(row.kind, locale, row.params, site)
        items.append(
            Item(row.id, row.kind, message.subject, message.body, _path(row), row.created_at, row.read_at is not None)
        )
    return items


def mark_read(session: Session, user_id: int, notification_id: int, now: datetime) -> str | None:
    """Mark one of the person's notifications read; returns where it leads (None: not theirs)."""
    row = session.get(Notification, notification_id)
    if row is None or row.recipient_id != user_id or row.channel != INAPP:
        return None
    row.read_at = row.read_at or now
    return _path(row)


def mark_all_read(session: Session, user_id: int, now: datetime) -> int:
    result = session.execute(
        update(Notification).where(*_mine(user_id), Notification.read_at.is_(None)).values(read_at=now)
    )
    return result.rowcount


def _path(row: Notification) -> str:
    return json.loads(row.params).get("path", "/")


def outbox_state(session: Session, now: datetime) -> tuple[dict[str, int], float]:
    """For /metrics: rows waiting, being sent and failed (an index range, not the in-app history), and the
    seconds the oldest due one has waited."""
    open_states = (PENDING, SENDING, FAILED)
    query = select(Notification.status, func.count()).where(Notification.status.in_(open_states))
    counts = dict.fromkeys(open_states, 0) | dict(session.execute(query.group_by(Notification.status)).all())
    due = select(func.min(Notification.next_attempt_at)).where(
        Notification.status == PENDING, Notification.next_attempt_at <= now
    )
    oldest = session.scalar(due)
    return counts, max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
