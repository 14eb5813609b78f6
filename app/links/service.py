"""Linking incidents, and resolving a major incident's children with its solution.

Links are written by handlers; each is an audit row on both incidents (`incident_linked` /
`incident_unlinked`). A child belongs to one major incident, and a major incident is not itself a
child (one level: a storm and its reports). Acting on many incidents answers per incident
(`Result`): done, or refused with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import audit
from app.audit import Actor
from app.incidents import permissions, projection
from app.incidents.service import Conflict, IncidentService, InvalidInput, NotFound, PermissionDenied, ServiceError
from app.links.models import CAUSED_BY, DUPLICATE_OF, KINDS, PART_OF, RELATED_TO, IncidentLink
from app.messages import N_, Message
from app.models import Incident, OpenTask

KINDS_OFFERED = KINDS  # in the order the link form offers them

HANDLING_OUTCOME = "resolved"  # the handling forms' outcome that resolves (the contract with the diagram)
UNRESOLVED = (projection.NEW, projection.OPEN)


@dataclass(frozen=True)
class Result:
    """One incident's answer to an action on several: done, or refused and why."""

    incident_id: int
    number: str
    done: bool
    reason: Message | None = None


@dataclass
class Links:
    """An incident's links as its page shows them."""

    parent: Incident | None = None  # the major incident it is part of
    children: list[Incident] = field(default_factory=list)
    outgoing: list[tuple[IncidentLink, Incident]] = field(default_factory=list)  # duplicate of, caused by, related to
    incoming: list[tuple[IncidentLink, Incident]] = field(default_factory=list)  # its duplicates, what it caused…

    @property
    def any(self) -> bool:
        return bool(self.parent or self.children or self.outgoing or self.incoming)


def link(incidents: IncidentService, actor: Actor, incident_id: int, kind: str, other_id: int | None) -> None:
    if not permissions.may_handle(actor):
        raise PermissionDenied(N_("Only handlers link incidents."))
    if kind not in KINDS:
        raise InvalidInput({"kind": Message(N_("Choose how the incidents are linked."))})
    if other_id is None:
        raise InvalidInput({"other": Message(N_("Give the other incident's number, e.g. INC000012."))})
    if other_id == incident_id:
        raise InvalidInput({"other": Message(N_("An incident cannot be linked to itself."))})
    with incidents.db.transaction() as session:
        this, other = _locked(session, incident_id), _locked(session, other_id, other=True)
        _check(session, this, other, kind)
        session.add(IncidentLink(from_id=this.id, to_id=other.id, kind=kind, created_by=actor.name,
                                 created_at=incidents.clock()))  # fmt: skip
        _audit(session, actor, incidents.clock(), "incident_linked", this, other, kind)


def unlink(incidents: IncidentService, actor: Actor, incident_id: int, link_id: int) -> None:
    if not permissions.may_handle(actor):
        raise PermissionDenied(N_("Only handlers link incidents."))
    with incidents.db.transaction() as session:
        row = session.get(IncidentLink, link_id)
        if row is None or incident_id not in (row.from_id, row.to_id):
            raise NotFound(N_("There is no such link."))
        this, other = session.get(Incident, row.from_id), session.get(Incident, row.to_id)
        session.delete(row)
        _audit(session, actor, incidents.clock(), "incident_unlinked", this, other, row.kind)


def _locked(session: Session, incident_id: int, other: bool = False) -> Incident:
    found = session.scalar(select(Incident).where(Incident.id == incident_id).with_for_update(of=Incident))
    if found is None:
        if other:
            raise InvalidInput({"other": Message(N_("There is no incident %(number)s."),
                                                 {"number": f"INC{incident_id:06d}"})})  # fmt: skip
        raise NotFound(N_("There is no such incident."))
    return found


def _check(session: Session, this: Incident, other: Incident, kind: str) -> None:
    pairs = or_(
        (IncidentLink.from_id == this.id) & (IncidentLink.to_id == other.id),
        (IncidentLink.from_id == other.id) & (IncidentLink.to_id == this.id),
    )
    if session.scalar(select(IncidentLink.id).where(pairs)) is not None:
        raise InvalidInput({"other": Message(N_("These incidents are already linked."))})
    if kind != PART_OF:
        return
    if _parent_id(session, this.id) is not None:
        raise InvalidInput({"other": Message(N_("This incident is already part of a major incident."))})
    if _parent_id(session, other.id) is not None:
        raise InvalidInput({"other": Message(N_("%(number)s is itself part of a major incident: link to that one."),
                                             {"number": other.number})})  # fmt: skip
    if children_ids(session, this.id):
        raise InvalidInput({"other": Message(N_("This incident is a major incident with children of its own."))})


def _audit(session: Session, actor: Actor, now, kind: str, this: Incident, other: Incident, link_kind: str) -> None:
    """One row on each incident, each naming the other."""
    for incident, partner, direction in ((this, other, "from"), (other, this, "to")):
        audit.append(session, kind=kind, actor=actor, at=now, incident_id=incident.id,
                     data={"link": link_kind, "direction": direction, "other_id": partner.id,
                           "other": partner.number})  # fmt: skip


def _parent_id(session: Session, incident_id: int) -> int | None:
    query = select(IncidentLink.to_id).where(IncidentLink.from_id == incident_id, IncidentLink.kind == PART_OF)
    return session.scalar(query)


def children_ids(session: Session, parent_id: int) -> list[int]:
    query = select(IncidentLink.from_id).where(IncidentLink.to_id == parent_id, IncidentLink.kind == PART_OF)
    return list(session.scalars(query.order_by(IncidentLink.from_id)))


def links_of(session: Session, incident_id: int) -> Links:
    rows = list(
        session.scalars(
            select(IncidentLink)
            .where(or_(IncidentLink.from_id == incident_id, IncidentLink.to_id == incident_id))
            .order_by(IncidentLink.id)
        )
    )
    ids = {row.to_id if row.from_id == incident_id else row.from_id for row in rows}
    others = {row.id: row for row in session.scalars(select(Incident).where(Incident.id.in_(ids)))} if ids else {}
    found = Links()
    for row in rows:
        if row.from_id == incident_id:
            if row.kind == PART_OF:
                found.parent = others[row.to_id]
            else:
                found.outgoing.append((row, others[row.to_id]))
        elif row.kind == PART_OF:
            found.children.append(others[row.from_id])
        else:
            found.incoming.append((row, others[row.from_id]))
    return found


# ------------------------------------------------------------------ resolving the children


def parent_solution(session: Session, parent_id: int) -> dict[str, Any] | None:
    """The major incident's current solution (kind and text), if it is resolved."""
    parent = session.get(Incident, parent_id)
    if parent is None or parent.status in UNRESOLVED:
        return None
    for event in reversed(audit.events_of(session, parent_id)):
        if event.kind == "reopened":
            return None
        if event.kind == "resolved":
            data = audit.data_of(event)
            return {"kind": data.get("kind"), "text": data.get("text")}
    return None


def resolve_children(
    incidents: IncidentService, actor: Actor, parent_id: int, child_ids: Iterable[int] | None = None
) -> list[Result]:
    """Resolve the open children (all, or these) with the major incident's solution, each through the
    step that has it now, as this person: each child is done or refused with the reason."""
    with incidents.db.read() as session:
        parent = session.get(Incident, parent_id)
        if parent is None:
            raise NotFound(N_("There is no such incident."))
        solution = parent_solution(session, parent_id)
        if solution is None:
            raise Conflict(N_("The major incident has no solution yet: resolve it first."))
        children = set(children_ids(session, parent_id))
        wanted = children if child_ids is None else [child for child in child_ids if child in children]
        rows = {row.id: row for row in session.scalars(select(Incident).where(Incident.id.in_(wanted)))}
    data = {"handling": {"outcome": HANDLING_OUTCOME, "solution_kind": solution["kind"], "solution": solution["text"],
                         "notes": f"随重大事件 {parent.number} 一并解决"}}  # fmt: skip
    return [_resolve_one(incidents, actor, rows[child_id], data) for child_id in sorted(rows)]


def _resolve_one(incidents: IncidentService, actor: Actor, child: Incident, data: dict) -> Result:
    def refused(text: str, **params: Any) -> Result:
        return Result(child.id, child.number, False, Message(text, params))

    if child.status == projection.NEW:
        return refused(N_("Not registered yet: the service desk registers it first."))
    if child.status not in UNRESOLVED:
        return refused(N_("Already resolved."))
    with incidents.db.read() as session:
        query = select(OpenTask).where(OpenTask.incident_id == child.id).order_by(OpenTask.created_at)
        tasks = list(session.scalars(query))
    step = next((task for task in tasks if _resolves(incidents, child.id, task.id)), None)
    if step is None:
        return refused(N_("No step that could resolve it is open."))
    try:
        incidents.complete_task(actor, child.id, step.id, data)
    except PermissionDenied:
        return refused(N_("Its step %(task)s is not yours to work."), task=step.name)
    except ServiceError as error:
        return Result(child.id, child.number, False, error.message)
    return Result(child.id, child.number, True)


def _resolves(incidents: IncidentService, incident_id: int, task_id: str) -> bool:
    """Whether the step's form can resolve (a handling form whose outcome may be `resolved`)."""
    try:
        schema = incidents.task_form(incident_id, task_id).schema
    except ServiceError:
        return False
    handling = (schema.get("properties") or {}).get("handling") or {}
    outcome = (handling.get("properties") or {}).get("outcome") or {}
    return HANDLING_OUTCOME in (outcome.get("enum") or ())


__all__ = ["CAUSED_BY", "DUPLICATE_OF", "KINDS_OFFERED", "PART_OF", "RELATED_TO", "Result", "link", "unlink"]
