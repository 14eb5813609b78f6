"""Notification pages: contact details (one's own, or any account's for an administrator), and the
administrator's channel page (configured channels, the outbox, failures, the development mail sink)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.messages import N_
from app.models import Incident, User, utcnow
from app.notifications import centre, contacts
from app.notifications.channels.email import MailSink
from app.notifications.messages import Site
from app.notifications.models import FAILED, STATUSES, Notification
from app.users import ADMIN
from app.web import database
from app.web.i18n import translate
from app.web.labels import label
from app.web.security import current_actor, has_role, login_required, roles_required

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.route("/contact", methods=["GET", "POST"])
@login_required
def own_contact():
    return _contact_page(g.user.id, url_for("notifications.own_contact"))


@bp.route("/contact/<int:user_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def contact(user_id: int):
    return _contact_page(user_id, url_for("notifications.contact", user_id=user_id))


def _contact_page(user_id: int, here: str):
    with database().read() as session:
        user = session.get(User, user_id)
    if user is None:
        abort(404)
    values = {name: getattr(user, name) or "" for name in contacts.FIELDS}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in contacts.FIELDS}
        cleaned, problems = contacts.clean(values)
        errors = {name: translate(message) for name, message in problems.items()}
        if not errors:
            with database().transaction() as session:
                changed = contacts.update(session, session.get(User, user_id), cleaned, current_actor(), utcnow())
            flash(_("The contact details have been saved.") if changed else _("Nothing was changed."),
                  "success" if changed else "info")  # fmt: skip
            return redirect(here)
    return render_template(
        "notifications/contact.html", user=user, values=values, errors=errors, limits=contacts.LIMITS,
        own=user.id == g.user.id, is_admin=has_role(ADMIN),
    ), 422 if errors else 200  # fmt: skip


@bp.route("/admin")
@roles_required(ADMIN)
def admin():
    worker = current_app.extensions["notifier"]
    with database().read() as session:
        counts = session.execute(
            select(Notification.channel, Notification.status, func.count()).group_by(
                Notification.channel, Notification.status
            )
        ).all()
        failed = session.execute(
            select(Notification, Incident.id)
            .outerjoin(Incident, Incident.id == Notification.incident_id)
            .where(Notification.status == FAILED)
            .order_by(Notification.id.desc())
            .limit(50)
        ).all()
    table: dict[str, dict[str, int]] = {}
    for channel, status, count in counts:
        table.setdefault(channel, dict.fromkeys(STATUSES, 0))[status] = count
    sink = worker.channels.get("email")
    mail = sink.messages(100) if isinstance(sink, MailSink) else None
    return render_template(
        "notifications/admin.html", channels=worker.channels, table=table, statuses=STATUSES,
        failed=[row for row, _ in failed], mail=mail,
    )  # fmt: skip


@bp.route("/admin/mail/<key>")
@roles_required(ADMIN)
def mail_message(key: str):
    sink = current_app.extensions["notifier"].channels.get("email")
    message = sink.message(key) if isinstance(sink, MailSink) else None
    if message is None:
        abort(404)
    return render_template("notifications/mail.html", message=message)


CHANNEL_NAMES = {
    "inapp": N_("In the app"),
    "email": N_("E-mail"),
    "sms": N_("SMS"),
    "wecom": N_("WeCom"),
    "dingtalk": N_("DingTalk"),
    "webhook": N_("Webhook"),
}
DELIVERY_STATES = {"pending": N_("Waiting"), "sending": N_("Sending"), "sent": N_("Delivered"), "failed": N_("Failed")}


@bp.app_template_global()
def channel_label(code: str) -> str:
    return label(CHANNEL_NAMES, code)


@bp.app_template_global()
def delivery_label(code: str) -> str:
    return label(DELIVERY_STATES, code)


# ---------------------------------------------------------------- the notification centre


def _site() -> Site:
    return Site(base_url=current_app.config["BASE_URL"], timezone=current_app.config["TIMEZONE"])


@bp.route("/")
@login_required
def index():
    with database().read() as session:
        items = centre.latest(session, g.user.id, str(get_locale()), _site())
        unread = centre.unread_count(session, g.user.id)
    return render_template("notifications/index.html", entries=items, unread=unread)


@bp.route("/unread")
@login_required
def unread():
    """The bell's poll (every NOTIFY_POLL_SECONDS from app.js): the unread count, nothing else."""
    with database().read() as session:
        count = centre.unread_count(session, g.user.id)
    response = jsonify(unread=count)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:notification_id>/open", methods=["POST"])
@login_required
def open_one(notification_id: int):
    with database().transaction() as session:
        path = centre.mark_read(session, g.user.id, notification_id, utcnow())
    if path is None:
        abort(404)
    return redirect(path)


@bp.route("/read", methods=["POST"])
@login_required
def read_all():
    with database().transaction() as session:
        count = centre.mark_all_read(session, g.user.id, utcnow())
    flash(_("%(count)s notifications marked as read.", count=count), "success")
    return redirect(url_for("notifications.index"))


@bp.app_template_global()
def unread_notifications() -> int:
    """For the bell in the top bar of every page."""
    with database().read() as session:
        return centre.unread_count(session, g.user.id)
