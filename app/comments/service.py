"""Writing on an incident: a handler's internal work note, or a comment the requester reads (and may
write on their own incident). Each is one transaction: the comment row, its audit row (the timeline's
entry, with the text) and its mentions, together or not at all.

@mentions: `@username` or `@显示名` of an active handler (someone with an inbox) puts the incident in
that person's inbox as "mentioned" until they mark it read. A requester's comment mentions nobody
(they do not know the handlers). The mentioned are notified (e-mail, SMS…) through the
notification outbox, in the note's own transaction.

Leadership's coordination notes (协调意见) are work notes: leadership writes them while the incident
is open, and they reach the incident manager and the holders of its open steps as a mention
(docs/web.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app import audit, notifications
from app.attachments import service as files
from app.audit import Actor
from app.comments.models import COMMENT, WORK_NOTE, Comment, Mention
from app.incidents import permissions, projection, visibility
from app.incidents.permissions import HANDLER_ROLES
from app.incidents.service import IncidentService, InvalidInput, NotFound, PermissionDenied
from app.messages import N_, Message
from app.models import Incident, User, UserRole
from app.users import LEADERSHIP

MAX_TEXT = 4000
AUDIT_KINDS = {WORK_NOTE: "work_note_added", COMMENT: "comment_added"}


def may_write(actor: Actor, incident: Incident, kind: str) -> bool:
    """Work notes: handlers, and leadership until the incident is closed (their coordination notes).
    Comments: handlers, and the requester on their own incident until it is closed."""
    if permissions.may_handle(actor):
        return True
    still_open = incident.status not in (projection.CLOSED, projection.TRANSFERRED)
    if kind == WORK_NOTE:
        return leads(actor) and still_open
    return visibility.audience(actor, incident) == visibility.REQUESTER_SIDE and still_open


def leads(actor: Actor) -> bool:
    """Leadership, not also a handler: their work note is a coordination note for the people handling it."""
    return LEADERSHIP in actor.roles and not permissions.may_handle(actor)


def add(
    incidents: IncidentService,
    actor: Actor,
    incident_id: int,
    kind: str,
    text: str,
    uploads: Sequence[files.Upload] = (),
    limits: files.Limits = files.DEFAULT_LIMITS,
) -> int:
    """Write a note or comment, with the files attached to it; returns its id. Someone who may not
    read the incident is told it does not exist."""
    if kind not in AUDIT_KINDS:
        raise NotFound(N_("There is no such incident."))
    text = (text or "").strip()
    if not text and not uploads:
        raise InvalidInput({"text": Message(N_("Write something first."))})
    if len(text) > MAX_TEXT:
        raise InvalidInput({"text": Message(N_("At most %(limit)s characters"), {"limit": MAX_TEXT})})
    now = incidents.clock()
    with incidents.db.transaction() as session:
        incident = session.scalar(select(Incident).where(Incident.id == incident_id).with_for_update(of=Incident))
        if incident is None or visibility.audience(actor, incident) is None:
            raise NotFound(N_("There is no such incident."))
        if not may_write(actor, incident, kind):
            raise PermissionDenied(
                N_("Only handlers, and leadership until the incident is closed, write work notes.")
                if kind == WORK_NOTE
                else N_("This incident is closed: it takes no more comments.")
            )
        internal = kind == WORK_NOTE or permissions.may_handle(actor)  # a requester mentions nobody
        mentioned = mentions_in(session, text) if internal else []
        if kind == WORK_NOTE and leads(actor):  # a coordination note: the people handling it must read it
            mentioned += notifications.managers_and_holders(session, incident)
        mentioned = list({user.id: user for user in mentioned if user.id != actor.user_id}.values())
        names = [user.display_name for user in mentioned]
        row = audit.append(
            session,
            kind=AUDIT_KINDS[kind],
            actor=actor,
            at=now,
            data={"text": text, "mentions": names} if names else {"text": text},
            incident_id=incident_id,
        )
        comment = Comment(incident_id=incident_id, kind=kind, text=text, author_id=actor.user_id,
                          author_name=actor.name, created_at=now, audit_id=row.id)  # fmt: skip
        session.add(comment)
        session.flush()
        side = files.REQUESTER_SIDE if kind == COMMENT else files.INTERNAL
        for upload in uploads:
            files.store(session, actor, incident, upload, limits, now, side=side, comment_id=comment.id)
        for user in mentioned:
            session.add(Mention(comment_id=comment.id, incident_id=incident_id, user_id=user.id, created_at=now))
        notifications.mention(
            session, incident, [user.id for user in mentioned], actor=actor, now=now, note=text, note_id=comment.id
        )  # the e-mail etc., in this transaction (docs/notifications.md)
        return comment.id


def mentions_in(session: Session, text: str) -> list[User]:
    """The active handlers named after an @ in the text, by user name or display name (Chinese names
    have no space after them: the longest name that follows the @ wins)."""
    if "@" not in text:
        return []
    people = list(
        session.scalars(
            select(User).join(UserRole).where(UserRole.role.in_(HANDLER_ROLES), User.active.is_(True)).distinct()
        )
    )
    names = sorted(((name, user) for user in people for name in (user.username, user.display_name) if name),
                   key=lambda pair: -len(pair[0]))  # fmt: skip
    found: dict[int, User] = {}
    for position in (index for index, char in enumerate(text) if char == "@"):
        rest = text[position + 1 :]
        for name, user in names:
            if rest.startswith(name) and not _runs_on(name, rest[len(name) : len(name) + 1]):
                found.setdefault(user.id, user)
                break
    return list(found.values())


def _runs_on(name: str, following: str) -> bool:
    """`@wang` is not `@wangfang`: a Latin name must end where a word does."""
    latin = name[-1].isascii() and following.isascii()
    return bool(following) and latin and (following.isalnum() or following == "_")


# ------------------------------------------------------------------ the inbox's "mentioned"


@dataclass(frozen=True)
class Unread:
    mention_id: int
    incident: Incident
    kind: str
    text: str
    by: str
    at: object


def unread(session: Session, user_id: int, limit: int = 100) -> list[Unread]:
    query = (
        select(Mention, Comment, Incident)
        .join(Comment, Comment.id == Mention.comment_id)
        .join(Incident, Incident.id == Mention.incident_id)
        .where(Mention.user_id == user_id, Mention.read_at.is_(None))
        .order_by(Mention.created_at.desc(), Mention.id.desc())
        .limit(limit)
    )
    return [
        Unread(mention.id, incident, comment.kind, comment.text, comment.author_name, comment.created_at)
        for mention, comment, incident in session.execute(query).all()
    ]


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(unread_query(user_id)) or 0


def unread_query(user_id: int) -> Select:
    """The count of one's unread mentions (the menu's badge counts it with others: app.live.service)."""
    return select(func.count()).select_from(Mention).where(Mention.user_id == user_id, Mention.read_at.is_(None))


def mark_read(incidents: IncidentService, actor: Actor, mention_ids: Iterable[int]) -> int:
    """Take mentions off the inbox (only one's own); returns how many."""
    ids = list(mention_ids)
    with incidents.db.transaction() as session:
        rows = list(
            session.scalars(
                select(Mention).where(Mention.id.in_(ids), Mention.user_id == actor.user_id, Mention.read_at.is_(None))
            )
        )
        for row in rows:
            row.read_at = incidents.clock()
        return len(rows)
