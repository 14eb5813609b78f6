"""Problem tickets: their list, one ticket with its incidents, and the incident manager's changes
(owner, status, workaround) — each change one transaction with its audit row."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, literal_column, or_, select
from sqlalchemy.orm import Session

from app import audit
from app.audit import Actor
from app.db import Database
from app.engine.lanes import INCIDENT_MANAGER
from app.incidents import record as records
from app.incidents import visibility
from app.incidents.errors import InvalidInput, NotFound, PermissionDenied
from app.incidents.permissions import HANDLER_ROLES
from app.messages import N_, Message
from app.models import Incident, ProblemLink, ProblemTicket, User, utcnow
from app.problems import lifecycle

TEXT_LIMIT = 4000
DESCRIPTION = f"{visibility.RAISED_WITH}.description"  # the field of what an incident was raised with


@dataclass(frozen=True)
class LinkedIncident:
    """What the ticket's owner works the problem from, of each incident: what it was raised with (its
    description) and how it was solved (the solution or workaround, while it stands) — from the same
    record the incident page reads, without the handlers' notes, facts or closing answers."""

    incident: Incident
    description: str | None
    solution: Mapping[str, Any] | None  # kind, text


@dataclass(frozen=True)
class ProblemView:
    ticket: ProblemTicket
    owner: User | None
    incidents: list[LinkedIncident]  # the one it was raised from first, then the linked ones


def incidents_of(session: Session, ticket: ProblemTicket) -> list[Incident]:
    linked = select(ProblemLink.incident_id).where(ProblemLink.problem_ticket_id == ticket.id)
    query = select(Incident).where(or_(Incident.id == ticket.incident_id, Incident.id.in_(linked)))
    return sorted(session.scalars(query), key=lambda incident: (incident.id != ticket.incident_id, incident.id))


def linked_incident(session: Session, incident: Incident) -> LinkedIncident:
    record = records.build(audit.events_of(session, incident.id), None)  # raw values; no form labels needed
    said = {item.path: item.value for item in record.raised_with.answers} if record.raised_with else {}
    description = said.get(DESCRIPTION)
    solution = {key: record.solution.get(key) for key in ("kind", "text")} if record.solution else None
    return LinkedIncident(incident, description if isinstance(description, str) else None, solution)


def tickets_of_incident(session: Session, incident_id: int) -> list[ProblemTicket]:
    """The problem tickets an incident was raised into or is linked to (the incident page's link back)."""
    linked = select(ProblemLink.problem_ticket_id).where(ProblemLink.incident_id == incident_id)
    query = select(ProblemTicket).where(or_(ProblemTicket.incident_id == incident_id, ProblemTicket.id.in_(linked)))
    return list(session.scalars(query.order_by(ProblemTicket.id)))


def link(session: Session, ticket: ProblemTicket, incident_ids: list[int]) -> None:
    """Link further incidents (a repeat group's others) to a ticket."""
    for incident_id in incident_ids:
        if incident_id != ticket.incident_id:
            session.add(ProblemLink(problem_ticket_id=ticket.id, incident_id=incident_id))


class ProblemService:
    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow):
        self.db, self.clock = db, clock

    def view(self, ticket_id: int) -> ProblemView:
        with self.db.read() as session:
            ticket = session.get(ProblemTicket, ticket_id)
            if ticket is None:
                raise NotFound(N_("There is no such problem ticket."))
            owner = session.get(User, ticket.owner_id) if ticket.owner_id else None
            linked = [linked_incident(session, incident) for incident in incidents_of(session, ticket)]
            return ProblemView(ticket, owner, linked)

    def update(
        self, actor: Actor, ticket_id: int, *, status: str, owner_id: int | None, note: str, workaround: str
    ) -> None:
        """The incident manager moves a ticket on (or keeps its status) and sets its owner."""
        if INCIDENT_MANAGER not in actor.roles:
            raise PermissionDenied(N_("Only the incident manager can change problem tickets."))
        note, workaround = note.strip(), workaround.strip()
        if len(note) > TEXT_LIMIT or len(workaround) > TEXT_LIMIT:
            field = "note" if len(note) > TEXT_LIMIT else "workaround"
            raise InvalidInput({field: Message(N_("Too long (at most %(limit)s characters)"), {"limit": TEXT_LIMIT})})
        now = self.clock()
        with self.db.transaction() as session:
            ticket = session.scalar(select(ProblemTicket).where(ProblemTicket.id == ticket_id).with_for_update())
            if ticket is None:
                raise NotFound(N_("There is no such problem ticket."))
            if owner_id is not None:
                owner = session.get(User, owner_id)
                if owner is None or not owner.active or not owner.roles & HANDLER_ROLES:
                    raise InvalidInput({"owner_id": Message(N_("Choose an active member of the team."))})
            before = {"status": ticket.status, "owner_id": ticket.owner_id, "workaround": ticket.workaround}
            if status != ticket.status:
                refused = lifecycle.refusal(ticket.status, status, note, workaround or ticket.workaround or "")
                if refused:
                    raise InvalidInput({refused[0]: Message(refused[1])})
            ticket.status, ticket.owner_id = status, owner_id
            ticket.workaround = workaround or ticket.workaround
            ticket.updated_at = now
            ticket.closed_at = now if status == lifecycle.CLOSED else None
            after = {"status": ticket.status, "owner_id": ticket.owner_id, "workaround": ticket.workaround}
            changes = {key: {"before": before[key], "after": after[key]} for key in after if before[key] != after[key]}
            if not changes and not note:
                raise InvalidInput({"": Message(N_("Nothing to change."))})
            audit.append(
                session, kind="problem_ticket_updated", actor=actor, at=now, incident_id=ticket.incident_id,
                data={"problem_ticket": ticket.number, "changes": changes, "note": note or None},
            )  # fmt: skip


def listing_query(status: str | None = None) -> Select:
    """Every ticket (or those of one status) with its owner, open ones first, newest first within."""
    query = select(ProblemTicket, User).outerjoin(User, User.id == ProblemTicket.owner_id)
    if status in lifecycle.STATUSES:
        query = query.where(ProblemTicket.status == status)
    # 'closed' written into the statement, as in the index of this order (migration 0032): a page reads its rows
    return query.order_by(ProblemTicket.status == literal_column(f"'{lifecycle.CLOSED}'"), ProblemTicket.id.desc())
