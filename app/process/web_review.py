"""Process owners' review of a draft before it is published: the dry run on the sample incidents, the diff
against the latest version, and publishing. Routes on the process blueprint (app/process/web.py)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.messages import N_
from app.process import diff as diagram_diff
from app.process import drafts, dryrun
from app.process.problems import ModelError, Problem
from app.process.web import (
    OWNER,
    bp,
    closed_draft,
    conflict_text,
    diagram_data,
    read_draft,
)
from app.web import database
from app.web.i18n import content, translate
from app.web.security import current_actor, roles_required

# What app.process.diff compares, as it names it in a change's details ("<what>: <before> → <after>").
DETAIL_LABELS = {
    "type": N_("type"),
    "name": N_("name"),
    "parent": N_("inside"),
    "lane": N_("lane"),
    "incoming from": N_("incoming from"),
    "outgoing to": N_("outgoing to"),
    "default flow": N_("default flow"),
    "source": N_("from"),
    "target": N_("to"),
    "condition": N_("condition"),
    "attached to": N_("attached to"),
    "interrupting": N_("interrupting"),
    "timer": N_("timer"),
    "event": N_("event"),
    "operation": N_("service operation"),
    "result variable": N_("result variable"),
    "form schema": N_("form schema"),
    "form UI schema": N_("form UI schema"),
    "reads": N_("reads"),
    "writes": N_("writes"),
    "refers to": N_("refers to"),
    "role": N_("role"),
    "executable": N_("executable"),
    "payload": N_("payload"),
    "variable": N_("variable"),
    "loop": N_("loop"),
}
DETAIL_PREFIXES = {
    "parameter ": N_("parameter %(name)s"),
    "property ": N_("property %(name)s"),
    "loop ": N_("loop %(name)s"),
}
DETAIL_VALUES = {diagram_diff.NONE: N_("(none)"), "yes": N_("yes"), "no": N_("no")}


@bp.route("/drafts/<int:draft_id>/publish", methods=["GET", "POST"])
@roles_required(OWNER)
def publish(draft_id: int):
    comment = request.form.get("comment", "").strip()
    comment_error = refused = conflict = None
    refused_problems: list[drafts.ProblemView] = []
    status = 200
    if request.method == "POST":
        lock_version = request.form.get("lock_version", type=int)
        if lock_version is None:
            abort(400)
        if not comment:
            comment_error, status = _("Say what changed: the comment is kept with the version."), 422
        else:
            try:
                with database().transaction() as session:
                    draft_row = drafts.get(session, draft_id)
                    xml = draft_row.bpmn_xml
                    published, created = drafts.publish(session, draft_id, lock_version, current_actor(), comment)
                    number, version_id = published.version, published.id
            except drafts.DraftNotFound:
                abort(404)
            except ModelError as error:
                refused_problems = drafts.describe(error.problems, xml)
                refused, status = _("Nothing was published: the draft has problems."), 422
            except drafts.DraftConflict as error:
                conflict, status = conflict_text(error, "publish"), 409
            except drafts.DraftClosed as error:
                flash(translate(error.message), "error")
                return redirect(url_for("process.draft", draft_id=draft_id))
            else:
                if not created:
                    flash(
                        _("The draft is identical to version %(number)s; nothing was published.", number=number), "info"
                    )
                    return redirect(url_for("process.draft", draft_id=draft_id))
                flash(
                    _(
                        "Version %(number)s was published. New incidents use it; running incidents keep their version.",
                        number=number,
                    ),
                    "success",
                )
                return redirect(url_for("process.version", version_id=version_id))
    return _publish_page(draft_id, comment, comment_error, refused, refused_problems, conflict, status)


def change_detail(detail: str) -> str:
    """A detail of app.process.diff ("name: 初始支持 → 初始支持（运维）") in the reader's language."""
    what, separator, values = detail.partition(": ")
    if not separator:
        return detail
    if what in DETAIL_LABELS:
        label = _(DETAIL_LABELS[what])
    else:
        prefix = next((prefix for prefix in DETAIL_PREFIXES if what.startswith(prefix)), None)
        label = _(DETAIL_PREFIXES[prefix], name=what[len(prefix) :]) if prefix else what
    parts = [_(DETAIL_VALUES[part]) if part in DETAIL_VALUES else part for part in values.split(" → ")]
    if what in ("name", "lane"):  # process labels
        parts = [" / ".join(content(name) for name in part.split(" / ")) for part in parts]
    return f"{label}: {' → '.join(parts)}"


def _problem_text(problem: Problem) -> str:
    """A problem as one line in the reader's language: the element's id, then the message."""
    text = translate(problem.message)
    return f"{problem.element_id}: {text}" if problem.element_id else text


def _publish_page(draft_id, comment, comment_error, refused, refused_problems, conflict, status):
    shown, context = read_draft(draft_id)
    if shown.status != drafts.OPEN:
        return closed_draft(draft_id)
    latest = context["latest"]
    problems = refused_problems or drafts.problems(shown)
    changes = form_changes = None
    diff_error = None
    if latest is not None:
        try:
            changes = diagram_diff.diff(latest.bpmn_xml, shown.bpmn_xml)
        except ModelError as error:
            diff_error = "; ".join(_problem_text(problem) for problem in error.problems)
        form_changes = drafts.form_changes(drafts.forms_of(latest), drafts.published_forms(shown))
    return (
        render_template(
            "process/publish.html",
            problems=problems,
            dry_run_outcomes=dry_run_of(shown)[0] if not problems else [],
            changes=changes,
            diff_error=diff_error,
            form_changes=form_changes,
            comment=comment if request.method == "POST" else shown.comment,
            comment_error=comment_error,
            change_detail=change_detail,
            refused=refused,
            conflict=conflict,
            diagram_data={
                **diagram_data(shown.bpmn_xml, problems),
                "added": [change.element_id for change in changes.added] if changes else [],
                "changed": [change.element_id for change in changes.changed] if changes else [],
            },
            **context,
        ),
        status,
    )


# --- the dry run ----------------------------------------------------------------------------------------------


@bp.route("/drafts/<int:draft_id>/dryrun")
@roles_required(OWNER)
def dry_run(draft_id: int):
    shown, context = read_draft(draft_id)
    outcomes, refused = dry_run_of(shown)
    stuck = [outcome for outcome in outcomes if not outcome.reached]
    names = drafts.element_names(shown.bpmn_xml)
    marks = [
        drafts.ProblemView(outcome.reason, outcome.stuck_at, names.get(outcome.stuck_at or "", ""))
        for outcome in stuck
        if outcome.stuck_at and outcome.reason
    ]
    return render_template(
        "process/dryrun.html",
        outcomes=outcomes,
        stuck=stuck,
        refused=refused,
        names=names,
        diagram_data=diagram_data(shown.bpmn_xml, marks),
        **context,
    )


def dry_run_of(draft) -> tuple[list[dryrun.Outcome], list[drafts.ProblemView]]:
    """The draft's dry run, or (when it cannot even be loaded) the problems that stop it."""
    try:
        return dryrun.for_document(draft.bpmn_xml, drafts.forms_of(draft)), []
    except ModelError as error:
        return [], drafts.describe(error.problems, draft.bpmn_xml)
