"""What a page's "version" is: a short token that changes when what the page shows may have changed.
Each is one indexed query. Every change to an incident is an audit row, so the newest audit row of
the incident (or of any incident) tells whether its page is stale."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.orm import Session

from app.alarms import recovery
from app.audit import Actor
from app.comments import service as mentions
from app.incidents import visibility
from app.models import AuditEvent
from app.notifications import centre
from app.web import queries
from app.web.paging import COUNT_CAP


def incident_version(session: Session, incident_id: int, audience: str) -> str:
    """The newest audit row of the incident this reader would see an entry of (the requester: only
    requester-side kinds, so nothing internal even shows as a change)."""
    query = select(func.max(AuditEvent.id)).where(AuditEvent.incident_id == incident_id)
    if audience != visibility.INTERNAL:
        query = query.where(AuditEvent.kind.in_(list(visibility.REQUESTER_EVENTS)))
    return str(session.scalar(query) or 0)


# An action takes its audit ids before it commits (docs/engine-state.md), so a row can become visible
# after one with a higher id: the newest id would not move for it, the sum of the newest ids does (the
# late row enters them, an older one leaves). A late row is a few concurrent actions' ids behind the
# newest, far fewer than LATE_WINDOW; the sum is one index read of that many ids (0.2 ms at 1 M rows).
LATE_WINDOW = 200
_NEWEST = (
    select(AuditEvent.id).where(AuditEvent.incident_id.is_not(None)).order_by(AuditEvent.id.desc()).limit(LATE_WINDOW)
).subquery()
_INCIDENTS_VERSION = select(func.max(_NEWEST.c.id), func.sum(_NEWEST.c.id))


def incidents_version(session: Session) -> str:
    """Any change to any incident: the console and the overview show many."""
    newest, ids = session.execute(_INCIDENTS_VERSION).one()
    return f"{newest or 0}.{ids or 0}"


def badge(session: Session, actor: Actor) -> int:
    """The menu's count: open tasks one may work, mentions not yet read, recovery checks not yet ticked.
    The tasks are counted up to COUNT_CAP + 1, so that every page's menu costs the same whatever the
    backlog: `badge_text` then says "1000+"."""
    return _badge(session.execute(_counts(actor.roles, badge=True, bell=False), {READER: actor.user_id}).one())


def top_bar(session: Session, actor: Actor, *, with_badge: bool) -> tuple[int, int]:
    """What every page's top bar counts, in one statement: the menu's badge (`with_badge`, else 0) and
    the bell's unread notifications."""
    *counts, unread = session.execute(_counts(actor.roles, badge=with_badge, bell=True), {READER: actor.user_id}).one()
    return _badge(counts) if with_badge else 0, unread


READER = "reader_id"


@lru_cache(maxsize=256)
def _counts(roles: frozenset[str], *, badge: bool, bell: bool) -> Select:
    """The counts' statement for anyone with these roles, the reader's id bound when it runs: built on
    every page, the statement (a union per role) and its cache key cost more than running it."""
    anyone = Actor(bindparam(READER, type_=Integer), "", roles)  # type: ignore[arg-type]
    parts = [*(_badge_parts(anyone) if badge else []), *([centre.unread_query(anyone.user_id)] if bell else [])]
    return select(*(part.scalar_subquery() for part in parts))


def _badge_parts(actor: Actor) -> list[Select]:
    return [queries.inbox_count_query(actor), mentions.unread_query(actor.user_id), recovery.pending_count_query(actor)]


def _badge(counts: Sequence[int]) -> int:
    tasks, unread_mentions, checks = counts
    return min(tasks, COUNT_CAP + 1) + unread_mentions + checks


def badge_text(count: int) -> str:
    """The badge as shown: the count, or "1000+" past the counting cap."""
    return f"{COUNT_CAP}+" if count > COUNT_CAP else str(count)
