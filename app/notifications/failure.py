"""After a delivery is settled: the audit row (and so the incident's timeline), and for a failure the
fallback to the person's next channel and an in-app notice to the incident managers; and sending a
failed one again once its cause is mended (`retry`)."""

from __future__ import annotations

import json
from collections.abc import Set
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.audit import SYSTEM, Actor
from app.engine.lanes import INCIDENT_MANAGER
from app.incidents.errors import Conflict, NotFound
from app.messages import N_
from app.models import User
from app.notifications import preferences
from app.notifications.models import FAILED, PENDING, Notification
from app.notifications.outbox import Outbox, address, members


def settled(session: Session, row: Notification, configured: Set[str], now: datetime) -> None:
    """`row` was just sent or failed for good (in the worker's transaction that records it)."""
    failed = row.status == FAILED
    # Who and on which channel, not the address: the audit log is kept for good, contact details are not.
    data = {"kind": row.kind, "recipient": row.recipient_name, "channel": row.channel, "attempts": row.attempts}
    if failed:
        data["error"] = row.last_error
    audit.append(session, kind="notification_failed" if failed else "notification_sent", actor=SYSTEM, at=now,
                 data=data, incident_id=row.incident_id)  # fmt: skip
    if failed:
        _fall_back(session, row, configured, now)
        _tell_managers(session, row, now)


def _fall_back(session: Session, row: Notification, configured: Set[str], now: datetime) -> None:
    """The same notification on the person's next channel that has an address and no row for this event."""
    user = session.get(User, row.recipient_id) if row.recipient_id else None
    if user is None:
        return
    tried = set(session.scalars(select(Notification.channel).where(Notification.event == row.event,
                                                                    Notification.recipient_id == user.id)))  # fmt: skip
    for channel in preferences.EXTERNAL:
        if channel in configured and channel not in tried and address(user, channel):
            outbox = Outbox(session, now)
            params = {**json.loads(row.params), "fallback_from": row.channel}
            outbox.add_chosen(row.event, row.kind, user, [channel], params, incident_id=row.incident_id)
            outbox.flush()
            return


def _tell_managers(session: Session, row: Notification, now: datetime) -> None:
    if row.incident_id is None or row.kind == "delivery_failed":
        return
    params = json.loads(row.params)
    outbox = Outbox(session, now)
    notice = {
        "number": params.get("number"),
        "title": params.get("title"),
        "path": f"/incidents/{row.incident_id}",
        "recipient": row.recipient_name,
        "channel": row.channel,
        "error": row.last_error,
        "about": row.kind,
    }
    outbox.add(f"failed:{row.id}", "delivery_failed", members(session, INCIDENT_MANAGER), notice,
               incident_id=row.incident_id)  # fmt: skip
    outbox.flush()


def retry(session: Session, actor: Actor, notification_id: int, now: datetime) -> Notification:
    """Send a failed notification again (the address was corrected, the mail server is back): it waits
    for a worker as a new one does, to the person's current address, its attempts counted afresh; its
    last error stays shown until the next attempt. Audited (`notification_retried`) on its incident."""
    row = session.get(Notification, notification_id, with_for_update=True)
    if row is None:
        raise NotFound(N_("There is no such notification."))
    if row.status != FAILED:
        raise Conflict(N_("This notification has not failed (any more): it is waiting, sent or being sent."))
    user = session.get(User, row.recipient_id) if row.recipient_id else None
    row.address = (address(user, row.channel) if user else None) or row.address
    row.status, row.attempts, row.next_attempt_at, row.lease_until = PENDING, 0, now, None
    data = {"kind": row.kind, "recipient": row.recipient_name, "channel": row.channel}
    audit.append(session, kind="notification_retried", actor=actor, at=now, data=data, incident_id=row.incident_id)
    return row
