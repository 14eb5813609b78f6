"""Attaching files on the web, and reading them back: a download streams the bytes with headers that
keep a browser from running them (attachment disposition unless an image, nosniff, a sandboxing
content-security policy), and is audited."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from app.attachments import service, types
from app.engine.lanes import REQUESTER
from app.incidents.service import InvalidInput, PermissionDenied
from app.web import HANDLERS, database, incident_service
from app.web.i18n import translate
from app.web.security import current_actor, login_required, roles_required

bp = Blueprint("attachments", __name__)
FORM_ALLOWANCE = 64 * 1024  # the rest of a form that carries a file


def limits() -> service.Limits:
    return service.Limits.from_config(current_app.config)


def init(app) -> None:
    app.jinja_env.globals["attachment_limit_mb"] = lambda: service.mb(limits().per_file)


def allow_upload() -> None:
    """A form with a file may be as large as one attachment (and its other fields); the rest stay small."""
    request.max_content_length = limits().per_file + FORM_ALLOWANCE


def upload_of(field: str = "file") -> service.Upload | None:
    """The file posted in the field, read whole (its size is bounded by `allow_upload`); None: none chosen."""
    file = request.files.get(field)
    if file is None or not file.filename:
        return None
    return service.Upload(file.filename, file.read())


@bp.url_value_preprocessor
def _limit(endpoint, values):
    if endpoint == "attachments.attach":
        allow_upload()


def too_large(_error: RequestEntityTooLarge):
    """Raised while the body is read, before any view: a clear answer, nothing stored."""
    message = translate(service.too_large(limits()))
    return render_template("errors/error.html", title=_("Not saved"), message=message), 413


bp.register_error_handler(RequestEntityTooLarge, too_large)


@bp.route("/incidents/<int:incident_id>/attachments", methods=["POST"])
@roles_required(*HANDLERS, REQUESTER)
def attach(incident_id: int):
    task_id = request.form.get("task_id") or None
    if task_id and (len(task_id) > 36 or not task_id.replace("-", "").isalnum()):
        task_id = None
    upload = upload_of()
    if upload is None:
        flash(_("Choose a file to attach."), "error")
    else:
        try:  # someone who may not read the incident gets the 404 of a missing one (the error handler)
            service.attach(incident_service(), current_actor(), incident_id, upload, limits(), task_id=task_id,
                           for_requester=request.form.get("for_requester") == "1")  # fmt: skip
        except InvalidInput as error:
            flash("; ".join(translate(message) for message in error.errors.values()), "error")
        except PermissionDenied as error:
            flash(translate(error.message), "error")
        else:
            flash(_("The file has been attached."), "success")
    if task_id:
        return redirect(url_for("inbox.task", incident_id=incident_id, task_id=task_id) + "#attachments")
    return redirect(url_for("incidents.detail", incident_id=incident_id) + "#attachments")


@bp.route("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    actor = current_actor()
    with database().read() as session:
        row = service.readable(session, actor, attachment_id)
    if row is None:
        abort(404)  # missing, someone else's, or internal: the same answer
    service.record_download(incident_service(), actor, row)
    inline = types.is_inline(row.content_type)
    response = Response(service.chunks(database(), row.id, row.size), mimetype=row.content_type,
                        direct_passthrough=True)  # fmt: skip
    response.headers["Content-Length"] = str(row.size)
    response.headers["Content-Disposition"] = disposition("inline" if inline else "attachment", row.filename)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"  # even opened directly, nothing runs
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def disposition(how: str, filename: str) -> str:
    """RFC 6266: an ASCII fallback name and the real one, percent-encoded (Chinese names survive)."""
    fallback = "".join(
        char if char.isascii() and char.isprintable() and char not in '"\\%' else "_" for char in filename
    )
    return f"{how}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
