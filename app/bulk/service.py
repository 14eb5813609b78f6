"""Each chosen incident goes through the same service action as on its own page, in its own
transaction: one may be refused (with the reason) while the others are done."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select

from app.audit import Actor
from app.incidents import permissions
from app.incidents.service import IncidentService, InvalidInput, NotFound, PermissionDenied, ServiceError
from app.links import service as links
from app.links.service import DUPLICATE_OF, PART_OF, Result
from app.messages import N_, Message
from app.models import Incident

MAX_CHOSEN = 200  # incidents per request


def number(incident_id: int) -> str:
    return f"INC{incident_id:06d}"


def each(incident_ids: Iterable[int], action: Callable[[int], None]) -> list[Result]:
    results = []
    for incident_id in list(dict.fromkeys(incident_ids))[:MAX_CHOSEN]:
        try:
            action(incident_id)
        except InvalidInput as error:
            results.append(Result(incident_id, number(incident_id), False, next(iter(error.errors.values()))))
        except ServiceError as error:
            results.append(Result(incident_id, number(incident_id), False, error.message))
        else:
            results.append(Result(incident_id, number(incident_id), True))
    return results


def assign(
    incidents: IncidentService, actor: Actor, tasks: Iterable[tuple[int, str]], assignee_id: int
) -> list[Result]:
    """Give each chosen task to a colleague (as the task page's assign does)."""
    chosen = dict(tasks)
    return each(chosen, lambda incident_id: incidents.assign(actor, incident_id, chosen[incident_id], assignee_id))


def link_to_parent(
    incidents: IncidentService, actor: Actor, incident_ids: Iterable[int], parent_id: int
) -> list[Result]:
    """Make each chosen incident a child of the major incident."""
    return each(incident_ids, lambda incident_id: links.link(incidents, actor, incident_id, PART_OF, parent_id))


def close_duplicates(
    incidents: IncidentService, actor: Actor, incident_ids: Iterable[int], original_id: int
) -> list[Result]:
    """Close each chosen incident as a duplicate of the original (linked to it first, if it is not)."""
    with incidents.db.read() as session:
        original = session.scalar(select(Incident.id).where(Incident.id == original_id))
    if original is None:
        raise InvalidInput(
            {"original": Message(N_("There is no incident %(number)s."), {"number": number(original_id)})}
        )

    def close(incident_id: int) -> None:
        if incident_id == original_id:
            raise InvalidInput({"original": Message(N_("An incident cannot be a duplicate of itself."))})
        with incidents.db.read() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                raise NotFound(N_("There is no such incident."))
            if not permissions.may_close_duplicate(actor, incident):  # checked before the link is made
                raise PermissionDenied(
                    N_("Only the service desk or the incident manager closes an open incident as a duplicate.")
                )
            linked = links.links_of(session, incident_id)
        if not any(row.kind == DUPLICATE_OF and other.id == original_id for row, other in linked.outgoing):
            links.link(incidents, actor, incident_id, DUPLICATE_OF, original_id)
        incidents.close_as_duplicate(actor, incident_id, original_id, number(original_id))

    return each(incident_ids, close)
