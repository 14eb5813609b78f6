"""Notification pages: contact details (one's own, or any account's for an administrator), and the
administrator's channel page (configured channels, the outbox, failures, the development mail sink)."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.engine.lanes import INCIDENT_MANAGER
from app.incidents.errors import Conflict, NotFound
from app.messages import N_
from app.models import User, utcnow
from app.notifications import centre, choices, contacts, failure, preferences
from app.notifications.channels.email import MailSink
from app.notifications.messages import Site
from app.notifications.models import FAILED, STATUSES, Notification
from app.notifications.outbox import address
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
        failed = _failed(session)
    table: dict[str, dict[str, int]] = {}
    for channel, status, count in counts:
        table.setdefault(channel, dict.fromkeys(STATUSES, 0))[status] = count
    sink = worker.channels.get("email")
    mail = sink.messages(100) if isinstance(sink, MailSink) else None
    return render_template(
        "notifications/admin.html", channels=worker.channels, table=table, statuses=STATUSES,
        failed=failed, mail=mail,
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
DELIVERY_STATES = {
    "pending": N_("Waiting"),
    "sending": N_("Sending"),
    "sent": N_("Delivered"),
    "failed": N_("Failed"),
    "skipped": N_("Channel not configured"),
}


@bp.app_template_global()
def channel_label(code: str) -> str:
    return label(CHANNEL_NAMES, code)


@bp.app_template_global()
def delivery_label(code: str) -> str:
    return label(DELIVERY_STATES, code)


@bp.app_template_global()
def notification_label(kind: str) -> str:
    return label({**preferences.KINDS, "delivery_failed": N_("Delivery failed")}, kind)


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
    """For the bell in the top bar of every page: read with the menu (app.web.navigation), else here."""
    if "unread_notifications" in g:
        return g.unread_notifications
    with database().read() as session:
        return centre.unread_count(session, g.user.id)


# ---------------------------------------------------------------- preferences and failures


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences_page():
    with database().read() as session:
        user = session.get(User, g.user.id)
        current = choices.load(session, user)
    errors: dict[str, str] = {}
    quiet_values = current.quiet or ("", "")
    if request.method == "POST":
        if request.form.get("action") == "reset":
            with database().transaction() as session:
                choices.reset(session, session.get(User, g.user.id), current_actor(), utcnow())
            flash(_("Your notifications follow your roles' defaults again."), "success")
            return redirect(url_for("notifications.preferences_page"))
        quiet_values = (request.form.get("quiet_starts", ""), request.form.get("quiet_ends", ""))
        quiet, problems = choices.check_quiet(*quiet_values)
        errors = {name: translate(message) for name, message in problems.items()}
        chosen = {kind: request.form.getlist(f"pref-{kind}") for kind in current.channels}
        if errors:  # the page again with what they ticked, not what is stored
            current = replace(current, channels=chosen, own=frozenset(chosen))
        else:
            with database().transaction() as session:
                choices.save(session, session.get(User, g.user.id), chosen, quiet, current_actor(), utcnow())
            flash(_("Your notification settings have been saved."), "success")
            return redirect(url_for("notifications.preferences_page"))
    return render_template(
        "notifications/preferences.html", user=user, current=current, kinds=preferences.KINDS,
        channels=preferences.EXTERNAL, addresses={channel: address(user, channel) for channel in preferences.EXTERNAL},
        quiet=quiet_values, errors=errors, urgent=preferences.URGENT,
    ), 422 if errors else 200  # fmt: skip


@bp.route("/failures")
@roles_required(ADMIN, INCIDENT_MANAGER)
def failures():
    with database().read() as session:
        failed = _failed(session)
    return render_template("notifications/failures.html", failed=failed)


@bp.post("/failures/<int:notification_id>/retry")
@roles_required(ADMIN, INCIDENT_MANAGER)
def retry(notification_id: int):
    """重新发送: a failed delivery goes back to the workers (app/notifications/failure.py)."""
    try:
        with database().transaction() as session:
            failure.retry(session, current_actor(), notification_id, utcnow())
    except NotFound:
        abort(404)
    except Conflict as error:
        flash(translate(error.message), "error")
    else:
        flash(_("The notification will be sent again in a moment."), "success")
    to_admin = request.form.get("back") == "admin" and has_role(ADMIN)  # the page the button was on
    return redirect(url_for("notifications.admin" if to_admin else "notifications.failures"))


def _failed(session) -> list[Notification]:
    query = select(Notification).where(Notification.status == FAILED).order_by(Notification.id.desc()).limit(100)
    return list(session.scalars(query))
