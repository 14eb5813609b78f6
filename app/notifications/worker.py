"""Delivering the outbox: `flask --app wsgi notify run` (several may run at once).

A worker claims a batch of due rows in one short transaction (FOR UPDATE SKIP LOCKED on PostgreSQL,
so workers never take the same row; SQLite serializes writers with BEGIN IMMEDIATE), marks them
`sending` with a lease and counts the attempt (a row whose recipient is in quiet hours waits for
their end instead); delivers each outside any transaction; then records
the outcome in another short transaction, only if the row is still its own (same attempt number).
A worker killed mid-delivery leaves rows whose lease runs out; the next worker delivers them again
with the same idempotency key. Failed attempts are retried with exponential back-off until
NOTIFY_MAX_ATTEMPTS, then the row is `failed` and shown to the incident manager and administrator.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.db import Database
from app.models import utcnow
from app.notifications import failure, preferences
from app.notifications.channels import Channel, DeliveryError, Outgoing
from app.notifications.messages import Site, render
from app.notifications.models import FAILED, PENDING, SENDING, SENT, SKIPPED, DeliveryAttempt, Notification, QuietHours

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 6
    backoff_seconds: float = 30  # the first retry; each next one waits twice as long
    backoff_max_seconds: float = 3600
    lease_seconds: float = 120  # longer than any channel's timeout
    batch: int = 20

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.backoff_seconds * 2 ** (attempts - 1), self.backoff_max_seconds))


@dataclass(frozen=True)
class Claim:
    id: int
    attempt: int  # the row's attempt count when claimed: whoever records must still hold it
    key: str
    event: str
    kind: str
    channel: str
    address: str | None
    recipient: str
    locale: str
    params: str


class Worker:
    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel],
        site: Site,
        *,
        policy: Policy | None = None,
        clock: Callable[[], datetime] = utcnow,
        name: str | None = None,
    ):
        self.db, self.channels, self.site = db, channels, site
        self.policy = policy or Policy()
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"

    def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many rows it settled or tried (0: nothing was due)."""
        claims, seen = self.claim()
        for claim in claims:
            self.deliver(claim)
        return seen

    def drain(self) -> int:
        """Deliver until nothing is due (tests, `notify run --once`); returns how many were tried."""
        tried = 0
        while True:
            claims, seen = self.claim()
            if not seen:
                return tried
            for claim in claims:
                self.deliver(claim)
            tried += len(claims)

    def claim(self) -> tuple[list[Claim], int]:
        """This worker's share of the due rows, and how many due rows it took in hand (the claimed, and
        those it put off for quiet hours or skipped for a channel not configured here)."""
        now = self.clock()
        query = (
            select(Notification)
            .where(
                or_(
                    and_(Notification.status == PENDING, Notification.next_attempt_at <= now),
                    and_(Notification.status == SENDING, Notification.lease_until < now),  # its worker died
                )
            )
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(self.policy.batch)
        )
        if self.db.is_postgresql:
            query = query.with_for_update(skip_locked=True)
        with self.db.transaction() as session:
            rows = session.scalars(query).all()
            lease_until = now + timedelta(seconds=self.policy.lease_seconds)
            quiet = self._quiet(session, rows, now)
            claims = []
            for row in rows:
                if row.channel not in self.channels:  # e.g. the webhook, where WEBHOOK_URL is not set
                    row.status, row.last_error, row.lease_until = SKIPPED, f"{row.channel} is not configured", None
                    continue
                if row.id in quiet:  # waits, uncounted, until the recipient's quiet hours end
                    row.status, row.next_attempt_at, row.lease_until = PENDING, quiet[row.id], None
                    continue
                row.status, row.lease_until, row.attempts = SENDING, lease_until, row.attempts + 1
                claims.append(Claim(row.id, row.attempts, row.key, row.event, row.kind, row.channel, row.address,
                                    row.recipient_name, row.locale, row.params))  # fmt: skip
            return claims, len(rows)

    def _quiet(self, session: Session, rows: list[Notification], now: datetime) -> dict[int, datetime]:
        """The rows whose recipient is in quiet hours now (never emergencies or breaches): when those end."""
        people = {row.recipient_id for row in rows if row.recipient_id and row.kind not in preferences.URGENT}
        if not people:
            return {}
        hours = {
            item.user_id: item for item in session.scalars(select(QuietHours).where(QuietHours.user_id.in_(people)))
        }
        zone = ZoneInfo(self.site.timezone)
        result = {}
        for row in rows:
            quiet = hours.get(row.recipient_id) if row.kind not in preferences.URGENT else None
            until = quiet and preferences.quiet_until(quiet.starts, quiet.ends, now, zone)
            if until:
                result[row.id] = until
        return result

    def deliver(self, claim: Claim) -> str:
        """Send one claimed notification and record the outcome (sent / retry / failed)."""
        started = time.monotonic()
        error: DeliveryError | None = None
        channel = self.channels[claim.channel]  # claimed only when configured here
        try:
            message = render(claim.kind, claim.locale, claim.params, self.site)
            params = json.loads(claim.params)
            channel.send(Outgoing(claim.key, claim.event, claim.kind, claim.address, claim.recipient, message, params))
        except DeliveryError as failure:
            error = failure
        except Exception as failure:  # a bug in a channel must not stop the worker; the row is retried
            log.exception("channel %s failed on notification %s", claim.channel, claim.id)
            error = DeliveryError(f"{type(failure).__name__}: {failure}")
        return self._record(claim, error, int((time.monotonic() - started) * 1000))

    def _record(self, claim: Claim, error: DeliveryError | None, duration_ms: int) -> str:
        now = self.clock()
        with self.db.transaction() as session:
            row = session.get(Notification, claim.id, with_for_update=True)  # after any claim of it in progress
            if row is None or row.status != SENDING or row.attempts != claim.attempt:
                log.warning("notification %s was taken over by another worker", claim.id)
                return "lost"
            if error is None:
                outcome = SENT
                row.status, row.sent_at, row.last_error = SENT, now, None
            elif error.permanent or row.attempts >= self.policy.max_attempts:
                outcome = FAILED
                row.status, row.last_error = FAILED, str(error)
            else:
                outcome = "retry"
                row.status, row.last_error = PENDING, str(error)
                row.next_attempt_at = now + self.policy.backoff(row.attempts)
            row.lease_until = None
            session.add(
                DeliveryAttempt(
                    notification_id=row.id,
                    at=now,
                    worker=self.name,
                    outcome=outcome,
                    error=None if error is None else str(error),
                    duration_ms=duration_ms,
                )  # fmt: skip
            )
            if outcome in (SENT, FAILED):
                failure.settled(session, row, set(self.channels), now)
        if error is not None:
            log.warning("notification %s via %s: %s (%s)", claim.id, claim.channel, error, outcome)
        return outcome


def run_forever(
    worker: Worker, interval: float, stop: threading.Event | None = None, jobs: Sequence[Callable[[], object]] = ()
) -> None:
    """Deliver until stopped; after each good round run `jobs` (the heartbeat that /metrics reads)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            busy = worker.run_once()
        except Exception:  # a worker must outlive a broken database connection
            log.exception("notification round failed")
            busy = 0
        else:
            for job in jobs:
                try:
                    job()
                except Exception:
                    log.exception("periodic job %r failed", job)
        if not busy:
            stop.wait(interval)


def start_in_process(worker: Worker, interval: float, jobs: Sequence[Callable[[], object]] = ()) -> threading.Thread:
    thread = threading.Thread(target=run_forever, args=(worker, interval), kwargs={"jobs": jobs}, name="notifier",
                              daemon=True)  # fmt: skip
    thread.start()
    return thread


def build(db: Database, config: Mapping[str, object], instance_path) -> Worker:
    """The worker the configuration describes (its channels, links, retry policy)."""
    from app.notifications.channels import configured

    policy = Policy(
        max_attempts=int(config["NOTIFY_MAX_ATTEMPTS"]),
        backoff_seconds=float(config["NOTIFY_BACKOFF_SECONDS"]),
        lease_seconds=float(config["NOTIFY_LEASE_SECONDS"]),
    )
    site = Site(base_url=str(config["BASE_URL"]), timezone=str(config["TIMEZONE"]))
    return Worker(db, configured(config, instance_path), site, policy=policy)
