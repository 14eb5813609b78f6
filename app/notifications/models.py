"""The outbox: one row per (event, recipient, channel), written in the transaction of the action that
caused it, delivered later by `flask --app wsgi notify run` (app/notifications/worker.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models import UtcDateTime, utcnow

PENDING = "pending"  # waiting for a worker (again, after a failed attempt or quiet hours: from next_attempt_at)
SENDING = "sending"  # claimed by a worker until lease_until; a worker that died leaves it to expire
SENT = "sent"
FAILED = "failed"  # every attempt failed; shown to the incident manager and the administrator
SKIPPED = "skipped"  # its channel is not configured where the worker runs; nobody was reached by it
STATUSES = (PENDING, SENDING, SENT, FAILED, SKIPPED)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index("ix_notifications_inbox", "recipient_id", "channel", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # event:recipient:channel, sent at most once
    event: Mapped[str] = mapped_column(String(160))  # what happened (task:<id>, incident:<id>:emergency, …)
    kind: Mapped[str] = mapped_column(String(40), index=True)  # the template (app/notifications/messages.py)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recipient_name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(254))  # e-mail, mobile or id, as it was when written
    locale: Mapped[str] = mapped_column(String(10))
    params: Mapped[str] = mapped_column(Text)  # JSON: what the template shows
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # in-app notifications only


class DeliveryAttempt(Base):
    """Each try of a worker to deliver a notification, successful or not."""

    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    worker: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(10))  # sent / retry / failed
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)


class Preference(Base):
    """The channels a person chose for one kind of notification (besides the app, which is always on);
    without a row, their roles' defaults apply (app/notifications/preferences.py)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    channels: Mapped[str] = mapped_column(String(100))  # comma-separated; "" = in the app only


class QuietHours(Base):
    """A person's quiet hours, in the app's time zone: notifications other than emergencies and
    deadline breaches wait until they end. `starts` after `ends` spans midnight (22:00–07:00)."""

    __tablename__ = "notification_quiet_hours"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    starts: Mapped[str] = mapped_column(String(5))  # HH:MM
    ends: Mapped[str] = mapped_column(String(5))
