"""Monitoring alarms in (app/alarms): Prometheus Alertmanager's webhook, a generic alarm JSON, and the
alarms an incident received. The token's account registers what the alarms open, so it needs the
service desk's role (docs/api.md: a `monitoring` account)."""

from __future__ import annotations

import json

from flask import current_app, g
from flask_babel import gettext as _

from app.alarms import mapping, recovery
from app.alarms.service import AlarmService, alarms_of
from app.api import problems, schemas
from app.api.auth import requires
from app.api.blueprint import answers, bp, spec
from app.api.tokens import ALARMS, COMPLETE_TASKS, READ
from app.engine.lanes import SERVICE_DESK
from app.incidents import visibility
from app.models import Incident, utcnow
from app.web import HANDLERS, database

TAGS = ("alarms",)
RECEIVED = answers(403, HTTP_200=schemas.AlarmOutcomes)


def _service() -> AlarmService:
    return current_app.extensions["alarms"]


def _outcomes(outcomes) -> schemas.AlarmOutcomes:
    return schemas.AlarmOutcomes(results=[schemas.AlarmOutcome(**vars(outcome)) for outcome in outcomes])


@bp.post("/alarms/alertmanager")
@requires(ALARMS, roles=(SERVICE_DESK,))  # alarms register incidents: the service desk's part
@spec.validate(json=schemas.AlertmanagerWebhook, resp=RECEIVED, tags=TAGS)
def alertmanager(json: schemas.AlertmanagerWebhook):
    """Prometheus Alertmanager's webhook (`webhook_configs`, version 4), each alert of the group in
    turn: deduplicated by fingerprint, a storm for one system gathered under one parent."""
    received = mapping.from_alertmanager(json.model_dump())
    return _outcomes(_service().receive(g.actor, alarm) for alarm in received)


@bp.post("/alarms")
@requires(ALARMS, roles=(SERVICE_DESK,))  # alarms register incidents: the service desk's part
@spec.validate(json=schemas.GenericAlarm, resp=RECEIVED, tags=TAGS)
def generic(json: schemas.GenericAlarm):
    """One alarm from any monitoring system (source, fingerprint, system, severity, summary,
    starts/ends, labels)."""
    return _outcomes([_service().receive(g.actor, mapping.from_generic(json.model_dump()))])


@bp.get("/incidents/<int:incident_id>/alarms")
@requires(READ)
@spec.validate(resp=answers(404, HTTP_200=schemas.AlarmList), tags=("incidents", *TAGS))
def incident_alarms(incident_id: int):
    """The alarms an incident received (and, for a storm's parent, its children's), newest first.
    Internal: the requester does not read them."""
    with database().read() as session:
        incident = session.get(Incident, incident_id)
        if incident is None or visibility.audience(g.actor, incident) != visibility.INTERNAL:
            raise problems.ApiProblem(404, _("Not found"), _("This page does not exist, or you may not see it."))
        rows = alarms_of(session, incident_id)
    return schemas.AlarmList(
        items=[
            schemas.AlarmOut(**{**{c.key: getattr(row, c.key) for c in row.__table__.columns}, "labels": json_of(row)})
            for row in rows
        ]
    )


@bp.post("/recovery-checks/<int:check_id>/confirm")
@requires(COMPLETE_TASKS, roles=HANDLERS)
@spec.validate(
    json=schemas.RecoveryConfirmation,
    resp=answers(403, 404, 409, HTTP_200=schemas.Done),
    tags=("tasks", *TAGS),
)
def confirm_recovery(check_id: int, json: schemas.RecoveryConfirmation):
    """Tick a confirm-recovery check (`kind` `recovery_check` in GET /tasks): the service is back, with
    what was checked. Its holder or group, or the incident manager; audited (`recovery_confirmed`); the
    incident stays as it is. 409 when it was ticked already or its incident has ended."""
    with database().transaction() as session:
        incident_id = recovery.confirm(session, g.actor, check_id, json.note, utcnow())
    return schemas.Done(incident_id=incident_id)


def json_of(row) -> dict:
    return json.loads(row.labels)
