"""The process owner's modeler (bpmn-js with the properties panel, built from modeler/; docs/process-model.md).
Routes on the process blueprint (app/process/web.py), for process owners only:

    GET  /process/drafts/<id>/edit      the draft's diagram in the modeler; saving goes to /process/drafts/<id>/diagram
    GET  /process/drafts/<id>/choices   what the panel offers, as JSON: the draft's forms and the service operations
"""

from __future__ import annotations

from flask import jsonify, render_template, url_for
from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from app.engine.operations import OPERATIONS
from app.process import drafts
from app.process.modeler_texts import modeler_texts
from app.process.web import OWNER, bp, closed_draft, diagram_data, load_draft, read_draft
from app.web import database
from app.web.i18n import content
from app.web.security import roles_required

SCHEMA_SUFFIX = ".schema.json"
UI_SCHEMA_SUFFIX = ".uischema.json"


@bp.route("/drafts/<int:draft_id>/edit")
@roles_required(OWNER)
def edit(draft_id: int):
    shown, context = read_draft(draft_id)
    if shown.status != drafts.OPEN:
        return closed_draft(draft_id)
    problems = drafts.problems(shown)
    editor = {
        **diagram_data(shown.bpmn_xml, problems),
        "lock_version": shown.lock_version,
        "save_url": url_for("process.save_diagram", draft_id=draft_id),
        "choices_url": url_for("process.choices", draft_id=draft_id),
        "download_name": secure_filename(f"{shown.process_id}-draft-{shown.id}.bpmn") or "draft.bpmn",
        "text": _editor_texts(),
        "modeler_texts": modeler_texts(),
    }
    return render_template("process/edit.html", problems=problems, editor=editor, **context)


def _editor_texts() -> dict[str, str]:
    """The page's own messages, translated here (process.js has no strings of its own)."""
    return {
        "saving": _("Saving…"),
        "saved": _("Saved at %(time)s."),
        "problems": _("%(count)s problem(s) would refuse publication:"),
        "unsaved": _("Unsaved changes"),
        "leave": _("The diagram has unsaved changes."),
        "failed": _("The draft could not be saved. Your diagram is still here: try again, or download it."),
    }


@bp.route("/drafts/<int:draft_id>/choices")
@roles_required(OWNER)
def choices(draft_id: int):
    """The forms a task may name (those of the draft with both files) and the operations a service task may call,
    each with its parameters: the panel offers exactly what publication accepts."""
    with database().read() as session:
        files = set(drafts.forms_of(load_draft(session, draft_id)))
    forms = sorted(
        name[: -len(SCHEMA_SUFFIX)]
        for name in files
        if name.endswith(SCHEMA_SUFFIX) and name[: -len(SCHEMA_SUFFIX)] + UI_SCHEMA_SUFFIX in files
    )
    operations = [
        {"name": op.name, "params": list(op.params), "summary": content(op.summary)} for op in OPERATIONS.values()
    ]
    return jsonify(forms=forms, operations=operations)
