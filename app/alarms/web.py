"""The alarms on the incident page (internal readers only): what monitoring sent, when, and what it
did; and ticking a confirm-recovery check from the inbox (app/alarms/recovery.py)."""

from __future__ import annotations

import json

from flask import Blueprint, Flask, flash, redirect, request, url_for
from flask_babel import gettext as _

from app.alarms import models, recovery
from app.alarms.service import alarms_of
from app.incidents.service import Conflict, InvalidInput, NotFound, PermissionDenied
from app.messages import N_
from app.models import utcnow
from app.web import HANDLERS, database
from app.web.i18n import translate
from app.web.security import current_actor, roles_required

bp = Blueprint("alarms", __name__)

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


@bp.route("/recovery-checks/<int:check_id>/confirm", methods=["POST"])
@roles_required(*HANDLERS)
def confirm_recovery(check_id: int):
    """恢复已确认: the handler has checked that the service is back (audited; the incident stays as it is)."""
    try:
        with database().transaction() as session:
            recovery.confirm(session, current_actor(), check_id, request.form.get("note", ""), utcnow())
    except (NotFound, PermissionDenied, Conflict) as error:
        flash(translate(error.message), "error")
    except InvalidInput as error:
        flash("; ".join(translate(message) for message in error.errors.values()), "error")
    else:
        flash(_("Recovery confirmed. The incident stays open until it is resolved and closed as usual."), "success")
    return redirect(url_for("inbox.index"))


def init(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["incident_alarms"] = incident_alarms
    app.jinja_env.globals["alarm_outcome"] = lambda code: _(OUTCOME_NAMES[code]) if code in OUTCOME_NAMES else code
