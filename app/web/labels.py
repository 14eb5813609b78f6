"""Display names of the codes stored in the database, translated where shown."""

from __future__ import annotations

from flask import Flask

from app.audit import SYSTEM
from app.incidents import projection
from app.messages import N_
from app.web.i18n import gettext as _

LEVELS = {"black": N_("Black"), "red": N_("Red"), "orange": N_("Orange"), "yellow": N_("Yellow"), "minor": N_("Minor")}
IMPACTS = {"major": N_("Major"), "severe": N_("Severe"), "general": N_("General")}
URGENCIES = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}
TYPES = {
    "consultation": N_("Consultation"),
    "request": N_("Request"),
    "complaint": N_("Complaint"),
    "fault": N_("Fault"),
    "security": N_("Information security"),
}
STATUSES = {
    "new": N_("Awaiting registration"),
    "open": N_("In handling"),
    "waiting_change": N_("Waiting for a change"),
    "resolved": N_("Resolved, awaiting confirmation"),
    "confirmed": N_("Confirmed, awaiting closure"),
    "closed": N_("Closed"),
    "transferred": N_("Transferred to the defect/requirement process"),
}
STAGES = {
    "registration": N_("Registration"),
    "initial_support": N_("Initial support"),
    "first_line": N_("First line"),
    "second_line": N_("Second line"),
    "incident_manager": N_("Incident manager"),
}
GROUPS = {
    "development": N_("Development group"),
    "test": N_("Test group"),
    "information_systems": N_("Information systems"),
}
ROLES = {
    "requester": N_("Requester"),
    "service_desk": N_("Service desk"),
    "first_line": N_("First line"),
    "second_line_dev": N_("Second line · development"),
    "second_line_test": N_("Second line · test"),
    "second_line_is": N_("Second line · information systems"),
    "incident_manager": N_("Incident manager"),
    "leadership": N_("Leadership"),
    "auditor": N_("Auditor"),
    "process_owner": N_("Process owner"),
    "admin": N_("Administrator"),
    "system": N_("System"),
}
SOURCES = {
    "hotline": N_("Hotline"),
    "email": N_("E-mail"),
    "phone": N_("Phone"),
    "face_to_face": N_("Face to face"),
    "web_ticket": N_("Web ticket"),
    "monitoring": N_("Monitoring alarm"),
    "vulnerability_scan": N_("Vulnerability scan"),
    "portal": N_("Self-service portal"),
}
CLOSURE_CODES = {
    "resolved": N_("Resolved"),
    "workaround": N_("Workaround"),
    "no_reply": N_("No reply, closed by default"),
    "transferred": N_("Transferred to the defect/requirement process"),
    "withdrawn": N_("Withdrawn by the requester"),
    "duplicate": N_("Closed as a duplicate"),
}
CHANGE_KINDS = {"defect": N_("Defect process"), "requirement": N_("Requirement process")}
PROBLEM_STATUSES = {
    "open": N_("Newly raised"),
    "investigating": N_("Under investigation"),
    "known_error": N_("Known error (workaround)"),
    "closed": N_("Closed"),
}

EVENTS = {
    "started": N_("Incident raised"),
    "task_completed": N_("Task completed"),
    "classified": N_("Classified"),
    "reclassified": N_("Re-classified"),
    "dispatched": N_("Handed over"),
    "deadline_warning": N_("Deadline warning"),
    "deadline_breach": N_("Deadline breached"),
    "notification_overdue": N_("Fault notification overdue (E1)"),
    "resolved": N_("Solution recorded"),
    "reopened": N_("Reopened"),
    "announced": N_("Announcement published"),
    "transferred": N_("Transferred to the change process"),
    "change_reported_done": N_("Change reported done"),
    "urgent_handling_demanded": N_("Urgent handling demanded by leadership"),
    "coordination_note": N_("Coordination note"),
    "problem_ticket_updated": N_("Problem ticket updated"),
    "confirmation_unanswered": N_("Confirmation unanswered: the service desk follows up"),
    "change_returned": N_("Back from the change"),
    "follow_up_requested": N_("Follow-up incident raised"),
    "problem_ticket_requested": N_("Problem ticket created"),
    "problem_ticket_created": N_("Problem ticket raised from repeat incidents"),
    "user_created": N_("Account created"),
    "user_updated": N_("Account changed"),
    "password_reset": N_("Password reset"),
    "password_changed": N_("Password changed"),
    "contact_updated": N_("Contact details changed"),
    "notification_preferences_changed": N_("Notification settings changed"),
    "notification_sent": N_("Notification delivered"),
    "notification_failed": N_("Notification not delivered"),
    "notification_retried": N_("Notification sent again"),
    "account_locked": N_("Account locked"),  # before sign-in throttling replaced lockout
    "signed_in": N_("Signed in"),
    "signed_out": N_("Signed out"),
    "sign_in_failed": N_("Sign-in failed"),
    "closed": N_("Closed"),
    "facts_added": N_("Facts added"),
    "forwarded_for_tracking": N_("Forwarded to the incident manager"),
    "task_claimed": N_("Task claimed"),
    "task_released": N_("Task released"),
    "task_assigned": N_("Task assigned"),
    "task_withdrawn": N_("Task withdrawn"),
    "withdrawn": N_("Withdrawn by the requester"),
    "closed_as_duplicate": N_("Closed as a duplicate"),
    "work_note_added": N_("Work note"),
    "comment_added": N_("Comment on the incident"),
    "attachment_added": N_("File attached"),
    "incident_linked": N_("Linked to another incident"),
    "incident_unlinked": N_("Link removed"),
    "attachment_downloaded": N_("Attachment downloaded"),
    "engine_error": N_("Engine error"),
    "migrated": N_("Moved to another process version"),
    "version_published": N_("Process version published"),
    "draft_created": N_("Draft created"),
    "draft_diagram_saved": N_("Draft diagram saved"),
    "draft_forms_saved": N_("Draft forms saved"),
    "draft_discarded": N_("Draft discarded"),
    "api_token_created": N_("API token created"),
    "api_token_revoked": N_("API token revoked"),
    "alarm_opened": N_("Opened by a monitoring alarm"),
    "alarm_storm_child": N_("Opened by a monitoring alarm of a storm"),
    "alarm_received": N_("Monitoring alarm repeated"),
    "ops_ticket_set": N_("xxxIT platform ticket linked"),
    "recovery_check_opened": N_("Alarm cleared: recovery to be confirmed"),
    "recovery_confirmed": N_("Recovery confirmed"),
    "recovery_check_closed": N_("Incident ended: its recovery check closed unticked"),
}

TABLES = {
    "level_label": LEVELS,
    "impact_label": IMPACTS,
    "urgency_label": URGENCIES,
    "type_label": TYPES,
    "status_label": STATUSES,
    "stage_label": STAGES,
    "group_label": GROUPS,
    "role_label": ROLES,
    "source_label": SOURCES,
    "closure_label": CLOSURE_CODES,
    "change_label": CHANGE_KINDS,
    "problem_status_label": PROBLEM_STATUSES,
    "event_label": EVENTS,
}


def label(table: dict[str, str], code: str | None) -> str:
    if code is None or code == "":
        return "—"
    return _(table[code]) if code in table else code


def actor_label(name: str) -> str:
    """Who did something, as people read it: the system in their language, a person by name."""
    return label(ROLES, SYSTEM.name) if name == SYSTEM.name else name


NOT_CLASSIFIED = N_("Not classified")  # a type not known yet (an incident waiting for registration)
NO_LEVEL = N_("No level")  # a level not set: not a fault, a fault meeting no criterion, or not classified yet
NONE_NAMES = {"type_label": NOT_CLASSIFIED, "level_label": NO_LEVEL}  # one name for "not set", on every page


def init(app: Flask) -> None:
    app.jinja_env.globals["status_codes"] = projection.STATUSES
    for name, table in TABLES.items():
        none = NONE_NAMES.get(name)
        app.jinja_env.globals[name] = lambda code, table=table, none=none: (
            _(none) if none and code in (None, "") else label(table, code)
        )
    app.jinja_env.globals["actor_label"] = actor_label
