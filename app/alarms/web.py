"""The alarms on the incident page (internal readers only): what monitoring sent, when, and what it did."""

from __future__ import annotations

import json

from flask import Flask
from flask_babel import gettext as _

from app.alarms import models
from app.alarms.service import alarms_of
from app.messages import N_
from app.web import database

OUTCOME_NAMES = {
    models.OPENED: N_("opened this incident"),
    models.STORM_CHILD: N_("opened an incident of the storm"),
    models.ATTACHED: N_("repeated: attached, nothing new opened"),
    models.RESOLVED: N_("cleared: noted, the incident stays open until people confirm recovery"),
    models.UNMATCHED: N_("cleared, with no open incident"),
    models.REFUSED: N_("no incident could be opened"),
}


def incident_alarms(incident_id: int) -> list[dict]:
    with database().read() as session:
        rows = alarms_of(session, incident_id)
    return [{"alarm": row, "labels": json.loads(row.labels).get("labels") or {}} for row in rows]


def init(app: Flask) -> None:
    app.jinja_env.globals["incident_alarms"] = incident_alarms
    app.jinja_env.globals["alarm_outcome"] = lambda code: _(OUTCOME_NAMES[code]) if code in OUTCOME_NAMES else code
