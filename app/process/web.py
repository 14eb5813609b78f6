"""Process owners: the published versions, drafts of the diagram and its forms, checking and publishing.

Routes (all for the role `process_owner` only):

    GET  /process/                              versions (newest first) and drafts
    GET  /process/versions/<id>                 a version: read-only diagram, its forms
    GET  /process/versions/<id>/download        its .bpmn file
    GET|POST /process/versions/<id>/migrate     move running incidents to it (web_migration.py)
    POST /process/drafts                        new draft from the latest version (or `version_id`)
    GET  /process/drafts/<id>                   the draft: every problem, highlighted on the diagram; upload
    GET  /process/drafts/<id>/edit              the diagram in the browser's modeler (web_modeler.py)
    GET  /process/drafts/<id>/choices           what the modeler's panel offers: forms, operations (web_modeler.py)
    POST /process/drafts/<id>/diagram           save from the modeler (JSON in, JSON with the problems out)
    POST /process/drafts/<id>/upload            upload a .bpmn file (multipart)
    POST /process/drafts/<id>/executable        mark its process executable (for an uploaded diagram)
    GET|POST /process/drafts/<id>/forms         the forms of its user tasks, as JSON
    GET  /process/drafts/<id>/download          the draft's .bpmn file
    GET|POST /process/drafts/<id>/publish       the diff against the latest version, then publish (web_review.py)
    GET  /process/drafts/<id>/dryrun            the draft run on the sample incidents (web_review.py)
    POST /process/drafts/<id>/discard           delete an open draft

The storage and rules are in app/process/drafts.py (a published draft is kept, marked published). Diagrams are
parsed only by app.process.validation.parse_xml and checked by app.process.validation.validate; nothing in them runs.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import defer
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename

from app.messages import N_
from app.models import ProcessVersion
from app.process import drafts, fixes, versions
from app.process.models import ProcessDraft
from app.process.validation import MAX_BPMN_BYTES
from app.tallies import service as tallies
from app.web import database
from app.web.i18n import content, translate
from app.web.inputs import form_id
from app.web.security import current_actor, has_role, roles_required
from app.web.timefmt import local

bp = Blueprint("process", __name__, url_prefix="/process")

OWNER = "process_owner"
UPLOAD_LIMIT = MAX_BPMN_BYTES + 64_000  # the diagram plus the multipart envelope
SAVE_LIMIT = 2 * MAX_BPMN_BYTES + 64_000  # the diagram as a JSON string (quotes escaped)

# What a conflicting save says, by what was being done: (who and when are known, someone unknown).
CONFLICT_TEXTS = {
    "diagram": (
        N_("%(who)s saved this draft at %(when)s, after you opened it. Your changes were not saved."),
        N_("Someone else saved this draft after you opened it. Your changes were not saved."),
    ),
    "forms": (
        N_(
            "%(who)s saved this draft at %(when)s, after you opened it. Your changes were not saved: your text is "
            "kept below. Compare it with the saved draft; saving again replaces their forms."
        ),
        N_(
            "Someone else saved this draft after you opened it. Your changes were not saved: your text is kept "
            "below. Compare it with the saved draft; saving again replaces their forms."
        ),
    ),
    "publish": (
        N_(
            "%(who)s saved this draft at %(when)s, after you opened it. Nothing was published: review the "
            "changes again before publishing."
        ),
        N_(
            "Someone else saved this draft after you opened it. Nothing was published: review the changes "
            "again before publishing."
        ),
    ),
}


@bp.url_value_preprocessor
def _limit_request_size(endpoint, values):
    """Bound what a request may send before anything reads its body (the CSRF check reads the form)."""
    if endpoint == "process.upload":
        request.max_content_length = UPLOAD_LIMIT
    elif endpoint in ("process.save_diagram", "process.forms"):  # forms: every form file of the draft at once
        request.max_content_length = request.max_form_memory_size = SAVE_LIMIT


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """Raised while the body is read, before the role check: only a process owner gets the draft page."""
    message = _("The file is larger than %(mb)s MB, the limit for a diagram.", mb=MAX_BPMN_BYTES // 1_000_000)
    if request.endpoint == "process.save_diagram":
        return jsonify(ok=False, error=message), 413
    draft_id = (request.view_args or {}).get("draft_id")
    if draft_id is None or not has_role(OWNER):
        return render_template("errors/error.html", title=_("Not saved"), message=message), 413
    return _draft_page(draft_id, upload_error=message, status=413)


# --- versions ----------------------------------------------------------------------------------------------


@bp.route("/")
@roles_required(OWNER)
def index():
    with database().read() as session:
        rows = list(
            session.scalars(
                select(ProcessVersion)
                .options(defer(ProcessVersion.bpmn_xml), defer(ProcessVersion.forms_json))
                .order_by(ProcessVersion.id.desc())
            )
        )
        running = tallies.running(session)  # counted by the timer worker: counting here read every running incident
        draft_rows = list(
            session.scalars(
                select(ProcessDraft)
                .options(defer(ProcessDraft.bpmn_xml), defer(ProcessDraft.forms_json))
                .order_by((ProcessDraft.status == drafts.OPEN).desc(), ProcessDraft.updated_at.desc())
                .limit(50)
            )
        )
    numbers = {row.id: row.version for row in rows}
    return render_template(
        "process/index.html",
        versions=rows,
        latest_id=rows[0].id if rows else None,
        running=running,
        drafts=draft_rows,
        numbers=numbers,
    )


def version_or_404(session, version_id: int) -> ProcessVersion:
    version = session.get(ProcessVersion, version_id)
    if version is None:
        abort(404)
    return version


@bp.route("/versions/<int:version_id>")
@roles_required(OWNER)
def version(version_id: int):
    with database().read() as session:
        shown = version_or_404(session, version_id)
        latest = versions.latest(session)
        running = tallies.running(session)
    forms = drafts.forms_of(shown)
    return render_template(
        "process/version.html",
        version=shown,
        is_latest=latest is not None and latest.id == shown.id,
        running=running,
        forms=forms,
        diagram_data={"xml": shown.bpmn_xml, "problems": []},
    )


@bp.route("/versions/<int:version_id>/download")
@roles_required(OWNER)
def download_version(version_id: int):
    with database().read() as session:
        shown = version_or_404(session, version_id)
    return _bpmn_file(shown.bpmn_xml, f"{shown.process_id}-v{shown.version}.bpmn")


def _bpmn_file(text: str, name: str) -> Response:
    filename = secure_filename(name) or "process.bpmn"
    return Response(
        text,
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff"},
    )


# --- drafts ------------------------------------------------------------------------------------------------


@bp.route("/drafts", methods=["POST"])
@roles_required(OWNER)
def new_draft():
    version_id = form_id("version_id")
    if version_id is None and request.form.get("version_id", "").strip():
        abort(404)  # names no version
    try:
        with database().transaction() as session:
            base = version_or_404(session, version_id) if version_id else versions.latest(session)
            draft_id = drafts.create(session, current_actor(), base).id
            number = base.version if base is not None else None
    except drafts.DraftError as error:
        flash(translate(error.message), "error")
        return redirect(url_for("process.index"))
    flash(_("A new draft was created from version %(number)s.", number=number), "success")
    return redirect(url_for("process.draft", draft_id=draft_id))


def load_draft(session, draft_id: int) -> ProcessDraft:
    try:
        return drafts.get(session, draft_id)
    except drafts.DraftNotFound:
        abort(404)


def read_draft(draft_id: int) -> tuple[ProcessDraft, dict]:
    """The draft (404 when there is none) and its draft_context, read together: what every draft page starts with."""
    with database().read() as session:
        shown = load_draft(session, draft_id)
        return shown, draft_context(session, shown)


def draft_context(session, draft: ProcessDraft) -> dict:
    """What every draft page shows about the draft: its base, the latest version, whether it is open."""
    base = session.get(ProcessVersion, draft.base_version_id) if draft.base_version_id else None
    published = session.get(ProcessVersion, draft.published_version_id) if draft.published_version_id else None
    latest = versions.latest(session)
    return {
        "draft": draft,
        "base": base,
        "latest": latest,
        "published": published,
        "is_open": draft.status == drafts.OPEN,
        "outdated": latest is not None and base is not None and latest.id != base.id and draft.status == drafts.OPEN,
    }


@bp.route("/drafts/<int:draft_id>")
@roles_required(OWNER)
def draft(draft_id: int):
    return _draft_page(draft_id)


def _draft_page(draft_id: int, *, upload_error: str | None = None, conflict: str | None = None, status: int = 200):
    shown, context = read_draft(draft_id)
    problems = drafts.problems(shown)
    refs = drafts.form_references(shown.bpmn_xml)
    return (
        render_template(
            "process/draft.html",
            problems=problems,
            refs=refs,
            drawn_lanes=drafts.drawn_lanes(shown.bpmn_xml),
            can_mark_executable=shown.status == drafts.OPEN and fixes.mark_executable(shown.bpmn_xml) is not None,
            upload_error=upload_error,
            conflict=conflict,
            max_mb=MAX_BPMN_BYTES // 1_000_000,
            diagram_data=diagram_data(shown.bpmn_xml, problems),
            **context,
        ),
        status,
    )


def diagram_data(xml: str, problems: list[drafts.ProblemView]) -> dict:
    return {"xml": xml, "problems": problems_json(problems)}


def problems_json(problems: list[drafts.ProblemView]) -> list[dict]:
    """The problems in the reader's language: the message and the element's name."""
    return [
        {**problem.as_json(), "message": translate(problem.message), "element_name": content(problem.element_name)}
        for problem in problems
    ]


def conflict_text(error: drafts.DraftConflict, action: str = "diagram") -> str:
    known, unknown = CONFLICT_TEXTS[action]
    if error.updated_by and error.updated_at:
        return _(known, who=error.updated_by, when=local(error.updated_at))
    return _(unknown)


def closed_draft(draft_id: int):
    flash(_("This draft has been published and can no longer be changed. Start a new draft."), "error")
    return redirect(url_for("process.draft", draft_id=draft_id))


@bp.route("/drafts/<int:draft_id>/diagram", methods=["POST"])
@roles_required(OWNER)
def save_diagram(draft_id: int):
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify(ok=False, error=_("The request was malformed.")), 400
    xml, lock_version = payload.get("bpmn_xml"), payload.get("lock_version")
    if not isinstance(xml, str) or not isinstance(lock_version, int) or isinstance(lock_version, bool):
        return jsonify(ok=False, error=_("The request was malformed.")), 400
    try:
        with database().transaction() as session:
            saved = drafts.save_diagram(session, draft_id, lock_version, xml, current_actor())
            new_lock, saved_at = saved.lock_version, saved.updated_at
    except drafts.DraftNotFound as error:
        return jsonify(ok=False, error=translate(error.message)), 404
    except drafts.DraftConflict as error:
        return jsonify(ok=False, conflict=True, error=conflict_text(error), lock_version=error.lock_version), 409
    except drafts.DraftClosed as error:
        return jsonify(ok=False, error=translate(error.message)), 409
    except drafts.InvalidDiagram as error:
        return jsonify(ok=False, error=translate(error.message)), 422
    problems = drafts.problems(saved)  # checked after the write transaction: nothing waits on it
    return jsonify(
        ok=True,
        lock_version=new_lock,
        saved_at=local(saved_at, "%H:%M:%S"),
        problems=problems_json(problems),
    )


@bp.route("/drafts/<int:draft_id>/upload", methods=["POST"])
@roles_required(OWNER)
def upload(draft_id: int):
    file = request.files.get("file")
    lock_version = request.form.get("lock_version", type=int)
    if file is None or not file.filename:
        return _draft_page(draft_id, upload_error=_("Choose a .bpmn file to upload."), status=422)
    data = file.stream.read(MAX_BPMN_BYTES + 1)
    if lock_version is None:
        abort(400)
    try:
        with database().transaction() as session:
            drafts.save_diagram(session, draft_id, lock_version, data, current_actor(), source="upload")
    except drafts.DraftNotFound:
        abort(404)
    except drafts.DraftConflict as error:
        return _draft_page(draft_id, conflict=conflict_text(error), status=409)
    except drafts.DraftClosed as error:
        flash(translate(error.message), "error")
        return redirect(url_for("process.draft", draft_id=draft_id))
    except drafts.InvalidDiagram as error:
        return _draft_page(draft_id, upload_error=translate(error.message), status=422)
    flash(_("The diagram %(name)s was uploaded into the draft.", name=file.filename), "success")
    return redirect(url_for("process.draft", draft_id=draft_id))


@bp.route("/drafts/<int:draft_id>/executable", methods=["POST"])
@roles_required(OWNER)
def mark_executable(draft_id: int):
    """Mark the draft's process executable (fixes.mark_executable), in one click from the draft page."""
    lock_version = request.form.get("lock_version", type=int)
    if lock_version is None:
        abort(400)
    with database().read() as session:
        fixed = fixes.mark_executable(load_draft(session, draft_id).bpmn_xml)
    if fixed is None:
        return redirect(url_for("process.draft", draft_id=draft_id))
    try:
        with database().transaction() as session:
            drafts.save_diagram(session, draft_id, lock_version, fixed, current_actor(), source="fix")
    except drafts.DraftConflict as error:
        return _draft_page(draft_id, conflict=conflict_text(error), status=409)
    except drafts.DraftClosed:
        return closed_draft(draft_id)
    flash(_("The process is now marked executable."), "success")
    return redirect(url_for("process.draft", draft_id=draft_id))


@bp.route("/drafts/<int:draft_id>/download")
@roles_required(OWNER)
def download_draft(draft_id: int):
    with database().read() as session:
        shown = load_draft(session, draft_id)
    return _bpmn_file(shown.bpmn_xml, f"{shown.process_id}-draft-{shown.id}.bpmn")


@bp.route("/drafts/<int:draft_id>/forms", methods=["GET", "POST"])
@roles_required(OWNER)
def forms(draft_id: int):
    errors: dict[str, str] = {}
    message = conflict = None
    status = 200
    submitted: dict[str, str] | None = None
    if request.method == "POST":
        names, texts = request.form.getlist("form_name"), request.form.getlist("form_text")
        lock_version = request.form.get("lock_version", type=int)
        if len(names) != len(texts) or lock_version is None:
            abort(400)
        submitted = dict(zip(names, texts, strict=True))
        try:
            with database().transaction() as session:
                drafts.save_forms(session, draft_id, lock_version, submitted, current_actor())
        except drafts.DraftNotFound:
            abort(404)
        except drafts.InvalidForms as error:
            errors = {name: translate(text) for name, text in error.errors.items()}
            message, status = _("Some forms are not valid; nothing was saved. Correct the marked forms."), 422
        except drafts.DraftConflict as error:
            conflict, status = conflict_text(error, "forms"), 409
        except drafts.DraftClosed as error:
            flash(translate(error.message), "error")
            return redirect(url_for("process.draft", draft_id=draft_id))
        else:
            flash(_("The forms were saved."), "success")
            return redirect(url_for("process.forms", draft_id=draft_id))
    shown, context = read_draft(draft_id)
    if shown.status != drafts.OPEN:
        return closed_draft(draft_id)
    refs = drafts.form_references(shown.bpmn_xml)
    entries = drafts.editable_forms(shown)
    if submitted is not None:  # nothing typed is lost
        entries = [(name, submitted.get(name, text), is_new) for name, text, is_new in entries]
    users = {}
    for ref in refs:
        for name in (ref.schema_file, ref.ui_file):
            users.setdefault(name, []).append(ref)
    referenced = {name for name, _text, _new in entries}
    unreferenced = sorted(set(drafts.forms_of(shown)) - referenced)
    return (
        render_template(
            "process/forms.html",
            entries=entries,
            users=users,
            errors=errors,
            message=message,
            conflict=conflict,
            unreferenced=unreferenced,
            **context,
        ),
        status,
    )


@bp.route("/drafts/<int:draft_id>/discard", methods=["POST"])
@roles_required(OWNER)
def discard(draft_id: int):
    try:
        with database().transaction() as session:
            drafts.discard(session, draft_id, current_actor())
    except drafts.DraftNotFound:
        abort(404)
    except drafts.DraftClosed as error:
        flash(translate(error.message), "error")
        return redirect(url_for("process.draft", draft_id=draft_id))
    flash(_("The draft was discarded."), "success")
    return redirect(url_for("process.index"))
