"""Publishing an announcement (发布公告) as an action of its own, not a choice inside a form.

The diagram publishes announcements from the incident manager's coordination step (紧急事件处理:
outcome "announce", then 发布紧急公告, and the step comes back to the same manager). This action
takes that path with just the text, so the engine, the audit and the diagram replay stay as they are.
"""

from __future__ import annotations

from sqlalchemy import select

from app.audit import Actor
from app.incidents.service import Conflict, IncidentService, InvalidInput
from app.messages import N_
from app.models import OpenTask

COORDINATION = "coordinate_emergency"  # the user task that publishes (the contract with the diagram)
ANNOUNCE = "announce"  # its outcome that does
FIELD = "handling.announcement"


def publish(service: IncidentService, actor: Actor, incident_id: int, text: str) -> None:
    """Publish `text` on the incident; refused when no coordination step is open (InvalidInput
    keyed "announcement" for a missing or too long text)."""
    with service.db.read() as session:
        task_id = session.scalar(
            select(OpenTask.id).where(OpenTask.incident_id == incident_id, OpenTask.spec_id == COORDINATION)
        )
    if task_id is None:
        raise Conflict(N_("Announcements are published while the incident manager coordinates an emergency."))
    data = {"handling": {"outcome": ANNOUNCE, "announcement": text.strip()}}
    try:
        service.complete_task(actor, incident_id, task_id, data)
    except InvalidInput as error:
        raise InvalidInput({"announcement" if path == FIELD else path: m for path, m in error.errors.items()}) from None
