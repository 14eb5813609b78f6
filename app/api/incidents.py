"""Incidents through the API: raise (the registration form's validation and classification), read
(as the caller may), list and search with cursor pagination, add facts, notes and links, and the
change-done callback of an incident waiting for a change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import g, request
from flask_babel import gettext as _

from app import forms
from app.api import paging, problems, representation, schemas
from app.api.auth import requires, roles_required
from app.api.blueprint import answers, bp, spec
from app.api.tokens import READ, WRITE_INCIDENTS
from app.comments import service as comments
from app.engine.lanes import REQUESTER, SERVICE_DESK
from app.incidents import visibility
from app.incidents.service import InvalidInput
from app.links import service as relations
from app.messages import N_, Message
from app.models import Incident
from app.web import HANDLERS, database, incident_service, queries, reading
from app.web.portal import SOURCE as PORTAL_SOURCE
from app.web.portal import portal_form

TAGS = ("incidents",)
NOT_FOUND = answers(401, 403, 404)


def handler_action(body: type) -> Callable[[Callable], Callable]:
    """A handler's action on one incident, sent as `body` and answered with the incident as it now is
    (403 for others, 404 when not found or not theirs, 409 when the incident's state refuses it)."""
    allowed = requires(WRITE_INCIDENTS, roles=HANDLERS)
    validated = spec.validate(
        json=body,
        resp=answers(403, 404, 409, HTTP_200=schemas.IncidentOut),
        tags=TAGS,
    )
    return lambda view: allowed(validated(view))


def read_incident(incident_id: int) -> schemas.IncidentOut:
    """The incident as the caller may read it; 404 whether it does not exist or is someone else's."""
    with database().read() as session:
        found = reading.read(session, incident_id, g.actor)
        if found is None:
            raise problems.ApiProblem(404, _("Not found"), _("This page does not exist, or you may not see it."))
        return representation.incident(found, g.actor)


@bp.get("/incidents")
@requires(READ)
@spec.validate(
    query=schemas.IncidentQuery,
    resp=answers(401, 403, HTTP_200=schemas.IncidentPage),
    tags=TAGS,
)
def list_incidents(query: schemas.IncidentQuery):
    """List and search incidents, newest first.

    Handlers, leadership and auditors search every incident; a requester lists their own. Pages are
    cut with `limit` and continued with `cursor` (the `next_cursor` of the page before)."""
    actor = g.actor
    internal = bool(actor.roles & visibility.READER_ROLES)
    if not internal and REQUESTER not in actor.roles:
        roles_required(*visibility.READER_ROLES, REQUESTER)
    filters = queries.IncidentFilter(
        text=query.q,
        status=query.status,
        type=query.type,
        level=query.level,
        emergency=bool(query.emergency),
        breached=bool(query.breached),
        requester_id=None if internal else actor.user_id,
    )
    statement = queries.incident_query(filters).order_by(None).order_by(Incident.created_at.desc(), Incident.id.desc())
    if query.emergency is False:
        statement = statement.where(Incident.emergency.is_(False))
    if query.breached is False:
        statement = statement.where(Incident.breached.is_(False))
    if query.ops_ticket:
        statement = statement.where(Incident.ops_ticket == query.ops_ticket.strip())
    if query.cursor:
        key = paging.decode(query.cursor, (datetime, int))
        statement = statement.where(paging.after((Incident.created_at, Incident.id), key, descending=True))
    with database().read() as session:
        rows, next_cursor = paging.page(session, statement, query.limit, lambda row: (row.created_at, row.id))
    return schemas.IncidentPage(items=[representation.summary(row, internal) for row in rows], next_cursor=next_cursor)


@bp.post("/incidents")
@requires(WRITE_INCIDENTS)
@spec.validate(
    json=schemas.IncidentCreate,
    resp=answers(401, 403, 409, HTTP_201=schemas.IncidentOut),
    tags=TAGS,
)
def create_incident(json: schemas.IncidentCreate):
    """Raise an incident.

    A service-desk account registers it at once with the registration form's answers (validated and
    classified exactly as the form is); a requester account raises it for themself with the portal's
    fields (`incident`: title, description, system, contact) and the service desk registers it."""
    actor = g.actor
    data = dict(json.model_extra or {})
    fields = data.get("incident") if isinstance(data.get("incident"), dict) else {}
    service = incident_service()
    if SERVICE_DESK in actor.roles:
        incident_id = service.start(actor, incident=fields, requester_id=json.requester_id, registration=data)
    elif REQUESTER in actor.roles:
        schema, _ui = portal_form(*service.start_form())
        try:
            clean = forms.validate(schema, {"incident": {}, **data})
        except forms.FormErrors as error:
            raise InvalidInput(error.errors) from None
        fields = {key: value for key, value in clean["incident"].items() if value is not None}
        incident_id = service.start(actor, incident={**fields, "source": PORTAL_SOURCE}, requester_id=actor.user_id)
    else:
        roles_required(SERVICE_DESK, REQUESTER)
    return read_incident(incident_id), 201, {"Location": f"{request.base_url}/{incident_id}"}


@bp.get("/incidents/form")
@requires(READ)
@spec.validate(resp=answers(401, 403, HTTP_200=schemas.FormOut), tags=TAGS)
def registration_form():
    """The form POST /incidents reads: the current registration form (the service desk's), or the
    portal's short form for a requester account. JSON Schema 2020-12, with its UI schema."""
    schema, ui = incident_service().start_form()
    if SERVICE_DESK not in g.actor.roles:
        if REQUESTER not in g.actor.roles:
            roles_required(SERVICE_DESK, REQUESTER)
        schema, ui = portal_form(schema, ui)
    return schemas.FormOut(json_schema=schema, ui_schema=ui)


@bp.get("/incidents/<int:incident_id>")
@requires(READ)
@spec.validate(resp=answers(401, 404, HTTP_200=schemas.IncidentOut), tags=TAGS)
def get_incident(incident_id: int):
    """One incident as the caller may read it: the whole record for handlers, leadership and
    auditors; the requester-side record for the person who raised it; 404 for anyone else."""
    return read_incident(incident_id)


@bp.post("/incidents/<int:incident_id>/facts")
@requires(WRITE_INCIDENTS, roles=HANDLERS)
@spec.validate(
    json=schemas.Facts,
    resp=answers(401, 403, 404, 409, HTTP_200=schemas.FactsAdded),
    tags=TAGS,
)
def add_facts(incident_id: int, json: schemas.Facts):
    """Add facts (the add-facts form's answers, `{"update": {...}}`): the incident is re-classified
    (a classification never falls) and its deadline re-armed. Handlers only."""
    data = json.model_extra or {}
    if set(data) - {"update"}:
        raise problems.invalid({"": Message(N_("Send the facts in one object, update."))})
    change = incident_service().add_facts(g.actor, incident_id, data.get("update", {}))
    return schemas.FactsAdded(reclassification=change, incident=read_incident(incident_id))


@bp.put("/incidents/<int:incident_id>/ops-ticket")
@handler_action(schemas.OpsTicket)
def set_ops_ticket(incident_id: int, json: schemas.OpsTicket):
    """Link the incident to the xxxIT operations platform's ticket (xxxIT平台工单号), so the platform
    finds the incident by its ticket (`GET /incidents?ops_ticket=…`) and people by either number.
    Handlers only; audited. The registration form also takes it (`incident.ops_ticket`)."""
    incident_service().set_ops_ticket(g.actor, incident_id, json.ops_ticket)
    return read_incident(incident_id)


@bp.post("/incidents/<int:incident_id>/notes")
@requires(WRITE_INCIDENTS)
@spec.validate(
    json=schemas.NoteIn,
    resp=answers(403, 404, HTTP_201=schemas.NoteOut),
    tags=TAGS,
)
def add_note(incident_id: int, json: schemas.NoteIn):
    """Write a work note (internal: handlers) or a comment (the requester reads it; the requester
    writes them on their own incident until it is closed) — app/comments, as on the incident page."""
    comment_id = comments.add(incident_service(), g.actor, incident_id, json.kind, json.text)
    return schemas.NoteOut(id=comment_id, incident_id=incident_id, kind=json.kind), 201


@bp.post("/incidents/<int:incident_id>/links")
@requires(WRITE_INCIDENTS, roles=HANDLERS)
@spec.validate(
    json=schemas.LinkIn,
    resp=answers(403, 404, HTTP_201=schemas.IncidentOut),
    tags=TAGS,
)
def link_incident(incident_id: int, json: schemas.LinkIn):
    """Link this incident to another (app/links, as on the incident page): `part_of` makes it a child of
    a major incident; `duplicate_of`, `caused_by`, `related_to`. Handlers only; audited on both."""
    relations.link(incident_service(), g.actor, incident_id, json.kind, json.other_id)
    return read_incident(incident_id), 201


@bp.post("/incidents/<int:incident_id>/change-done")
@handler_action(schemas.ChangeDone)
def change_done(incident_id: int, json: schemas.ChangeDone):
    """The change callback: the defect or requirement an incident waits for (status `waiting_change`)
    is done, and the incident goes back to the group that transferred it, its deadline moved by the
    wait — the incident page's 变更已完成. Handlers only; audited as the token's account. 409 when the
    incident does not wait for a change, or waits for another one than `change_reference`."""
    incident_service().report_change_done(g.actor, incident_id, json.note, json.change_reference)
    return read_incident(incident_id)
