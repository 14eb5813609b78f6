"""Attaching a file and reading it back. Every upload and every download is an audit row.

Who may attach: handlers, and the requester on their own incident until it is closed. What the
requester may read: what is on the requester side (`visibility.requester_sees_attachment`): what
they attached, and what a handler attached to a comment or marked for them. Everything else is
internal and answers 404 to them, like a file that does not exist.

The bytes are kept in `attachment_contents`, one row per file, in the same database and the same
transaction as the description and the audit row (docs/attachments.md says why); a download reads
them a slice at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit
from app.attachments import types
from app.attachments.models import INTERNAL, REQUESTER_SIDE, Attachment, AttachmentContent

__all__ = ["INTERNAL", "REQUESTER_SIDE", "DEFAULT_LIMITS", "Limits", "Upload", "attach", "store"]
from app.audit import Actor
from app.db import Database
from app.incidents import permissions, projection, visibility
from app.incidents.service import IncidentService, InvalidInput, NotFound, PermissionDenied
from app.messages import N_, Message
from app.models import Incident, OpenTask

MB = 1024 * 1024
CHUNK = 256 * 1024  # a download reads this much at a time


@dataclass(frozen=True)
class Limits:
    per_file: int = 10 * MB
    per_incident: int = 50 * MB

    @classmethod
    def from_config(cls, config) -> Limits:
        return cls(
            int(float(config["ATTACHMENT_MAX_FILE_MB"]) * MB), int(float(config["ATTACHMENT_MAX_INCIDENT_MB"]) * MB)
        )


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def may_attach(actor: Actor, incident: Incident) -> bool:
    if permissions.may_handle(actor):
        return True
    own = visibility.audience(actor, incident) == visibility.REQUESTER_SIDE
    return own and incident.status not in (projection.CLOSED, projection.TRANSFERRED)


def attach(
    incidents: IncidentService,
    actor: Actor,
    incident_id: int,
    upload: Upload,
    limits: Limits,
    *,
    task_id: str | None = None,
    for_requester: bool = False,
) -> int:
    """Attach a file to the incident, or to one of its open task steps; returns the attachment's id."""
    with incidents.db.transaction() as session:
        incident = locked_incident(session, actor, incident_id)
        task = None
        if task_id:
            task = session.get(OpenTask, task_id)
            if task is None or task.incident_id != incident_id:
                raise InvalidInput({"file": Message(N_("That task step is no longer open."))})
        side = REQUESTER_SIDE if for_requester or not permissions.may_handle(actor) else INTERNAL
        found = store(session, actor, incident, upload, limits, incidents.clock(), side=side, task=task)
        return found.id


def locked_incident(session: Session, actor: Actor, incident_id: int) -> Incident:
    """The incident, locked against a second upload at the same moment (the per-incident limit), if
    this person may attach to it; someone who may not read it is told it does not exist."""
    incident = session.scalar(select(Incident).where(Incident.id == incident_id).with_for_update(of=Incident))
    if incident is None or visibility.audience(actor, incident) is None:
        raise NotFound(N_("There is no such incident."))
    if not may_attach(actor, incident):
        raise PermissionDenied(N_("You cannot attach files to this incident."))
    return incident


def store(
    session: Session,
    actor: Actor,
    incident: Incident,
    upload: Upload,
    limits: Limits,
    now,
    *,
    side: str,
    task: OpenTask | None = None,
    comment_id: int | None = None,
) -> Attachment:
    """Check and keep one file, with its audit row, in the caller's transaction."""
    size = len(upload.data)
    if size == 0:
        raise InvalidInput({"file": Message(N_("The file is empty."))})
    if size > limits.per_file:
        raise InvalidInput({"file": too_large(limits)})
    kind = types.detect(upload.data[: types.TEXT_PROBE])
    if kind is None:
        raise InvalidInput({"file": Message(N_(
            "This kind of file is not accepted. Attach images, PDF, text or log files, or ZIP archives "
            "(office files included); put anything else in a ZIP archive."))})  # fmt: skip
    used = session.scalar(
        select(func.coalesce(func.sum(Attachment.size), 0)).where(Attachment.incident_id == incident.id)
    )
    if used + size > limits.per_incident:
        raise InvalidInput({"file": Message(
            N_("The incident's attachments would exceed %(mb)s MB together (%(used)s MB are used)."),
            {"mb": mb(limits.per_incident), "used": mb(used)})})  # fmt: skip
    row = Attachment(
        incident_id=incident.id,
        comment_id=comment_id,
        task_id=task.id if task else None,
        task_name=task.name if task else None,
        side=side,
        filename=types.safe_name(upload.filename, kind),
        content_type=kind.content_type,
        size=size,
        sha256=hashlib.sha256(upload.data).hexdigest(),
        uploaded_by_id=actor.user_id,
        uploaded_by_name=actor.name,
        uploaded_at=now,
    )
    session.add(row)
    session.flush()
    session.add(AttachmentContent(attachment_id=row.id, data=upload.data))
    audit.append(session, kind="attachment_added", actor=actor, at=now, incident_id=incident.id,
                 task_id=row.task_id, task_name=row.task_name, data=described(row))  # fmt: skip
    return row


def too_large(limits: Limits) -> Message:
    return Message(N_("The file is larger than %(mb)s MB, the limit for one attachment."), {"mb": mb(limits.per_file)})


def described(row: Attachment) -> dict:
    """What an audit row says of an attachment."""
    data = {"attachment_id": row.id, "filename": row.filename, "content_type": row.content_type,
            "size": row.size, "sha256": row.sha256, "side": row.side}  # fmt: skip
    if row.comment_id is not None:
        data["comment_id"] = row.comment_id
    return data


def mb(size: int) -> str:
    return f"{size / MB:.1f}".removesuffix(".0")


# ------------------------------------------------------------------ reading


def readable(session: Session, actor: Actor, attachment_id: int) -> Attachment | None:
    """The attachment if this person may read it; None as for one that does not exist."""
    row = session.get(Attachment, attachment_id)
    if row is None:
        return None
    incident = session.get(Incident, row.incident_id)
    audience = visibility.audience(actor, incident)
    if audience is None or (
        audience == visibility.REQUESTER_SIDE and not visibility.requester_sees_attachment(row.side)
    ):
        return None
    return row


def of_incident(session: Session, incident_id: int, audience: str) -> list[Attachment]:
    query = select(Attachment).where(Attachment.incident_id == incident_id).order_by(Attachment.id)
    if audience != visibility.INTERNAL:
        query = query.where(Attachment.side == REQUESTER_SIDE)
    return list(session.scalars(query))


def chunks(db: Database, attachment_id: int, size: int) -> Iterator[bytes]:
    """The file's bytes, CHUNK at a time, each slice read by the database (substr works on BLOB and bytea)."""
    for start in range(0, size, CHUNK):
        with db.read() as session:
            piece = session.scalar(
                select(func.substr(AttachmentContent.data, start + 1, CHUNK)).where(
                    AttachmentContent.attachment_id == attachment_id
                )
            )
        if not piece:
            return
        yield bytes(piece)


def record_download(incidents: IncidentService, actor: Actor, row: Attachment) -> None:
    with incidents.db.transaction() as session:
        audit.append(session, kind="attachment_downloaded", actor=actor, at=incidents.clock(),
                     incident_id=row.incident_id, data=described(row))  # fmt: skip
