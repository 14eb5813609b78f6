"""A problem ticket (问题单) raised from the reports page for a group of repeat incidents (the incident
manager only). The group is checked again when it is raised: its incidents must still be linked into
one group (the same rule as the report), and none of them may have a problem ticket yet. The ticket
goes to the group's latest incident, with the suggested title; an audit row records it."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.audit import Actor
from app.models import Incident, ProblemTicket
from app.problems import service as problems
from app.reports.filters import incident_number
from app.reports.repeats import RepeatCandidate, find_repeats
from app.web.inputs import id_value
from app.web.timefmt import zone


def incident_ids(values: list[str]) -> list[int] | None:
    """The posted incident ids (comma-joined in a field), or None when one cannot name an incident."""
    ids: list[int] = []
    for value in (part for posted in values for part in posted.split(",")):
        number = id_value(value)
        if number is None:
            return None
        ids.append(number)
    return sorted(set(ids))


def raise_ticket(session: Session, ids: list[int], actor: Actor, now: datetime) -> tuple[str | None, str | None]:
    """Create the ticket for the repeat group of `ids`: (its number, None), or (None, why not)."""
    # Lock the group's incidents: two clicks at once cannot both create a ticket (PostgreSQL;
    # SQLite writers are serialized already).
    locked = session.scalars(select(Incident.id).where(Incident.id.in_(ids)).with_for_update()).all()
    existing = session.scalars(
        select(ProblemTicket).where(ProblemTicket.incident_id.in_(ids)).order_by(ProblemTicket.id)
    ).first()
    rows = session.execute(
        select(
            Incident.id, Incident.title, Incident.type, Incident.fault_category, Incident.system,
            Incident.registered_at,
        ).where(Incident.id.in_(ids), Incident.registered_at.is_not(None))
    ).all()  # fmt: skip
    groups = find_repeats([RepeatCandidate(*row) for row in rows], tz=zone())
    if len(locked) != len(ids):
        return None, _("Some of these incidents do not exist.")
    if existing is not None:
        return None, _(
            "This group already has a problem ticket: %(ticket)s (%(incident)s). No second ticket was created.",
            ticket=existing.number,
            incident=incident_number(existing.incident_id),
        )
    if len(groups) != 1 or len(groups[0].incidents) != len(ids):
        return None, _("These incidents are no longer one group of repeat incidents. Look at the report again.")
    group = groups[0]
    latest = group.incidents[-1]
    ticket = ProblemTicket(incident_id=latest.id, title=group.suggested_title, created_by=actor.name, created_at=now)
    session.add(ticket)
    session.flush()
    problems.link(session, ticket, [incident.id for incident in group.incidents])
    audit.append(
        session,
        kind="problem_ticket_created",
        actor=actor,
        at=now,
        incident_id=latest.id,
        data={
            "problem_ticket": ticket.number,
            "title": ticket.title,
            "incidents": [incident.number for incident in group.incidents],
            "source": "repeat_incidents_report",
        },
    )
    return ticket.number, None
