"""Default settings; each can be overridden by an environment variable of the same name."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from app import rules

DEFAULTS = {
    "DATABASE_URL": None,  # None: SQLite in the instance folder
    "DATABASE_OWNER_URL": None,  # PostgreSQL: the schema owner's connection, for `db upgrade` (None: DATABASE_URL)
    "SECRET_KEY": None,  # None: generated once and kept in the instance folder
    "TIMEZONE": "Asia/Shanghai",
    "WARNING_RATIO": rules.WARNING_RATIO,
    "NOTIFICATION_WINDOW_MINUTES": rules.NOTIFICATION_WINDOW_MINUTES,
    "REGISTRATION_TARGET_MINUTES": rules.REGISTRATION_TARGET_MINUTES,  # for incidents raised in the portal
    "CONFIRMATION_WORKING_DAYS": rules.CONFIRMATION_WORKING_DAYS,  # then the service desk follows up (回访确认)
    "TIMER_INTERVAL_SECONDS": 30,  # how often the development server fires due timers
    "AUDIT_HMAC_KEY": None,  # None: generated once and kept in the instance folder (development only)
    "AUDIT_CHECKPOINT_DIR": None,  # None: instance/audit-checkpoints
    "AUDIT_VERIFY_SECONDS": 300,  # the timer worker checks the whole audit log and writes a checkpoint this often
    "TALLY_SECONDS": 60,  # the timer worker counts the incidents this often (the overview, the process versions)
    "REPEATS_INLINE_LIMIT": 500,  # a report period with more incidents shows repeat groups the timer worker keeps
    "REPEATS_MAX_AGE_SECONDS": 600,  # such a stored grouping older than this is computed again when a page asks
    "PASSWORD_HASH_METHOD": "scrypt",
    "SESSION_COOKIE_SECURE": False,  # set to 1 behind HTTPS
    "ATTACHMENT_MAX_FILE_MB": 10,  # one attached file at most
    "ATTACHMENT_MAX_INCIDENT_MB": 50,  # all the files of one incident together at most
    "LOG_FORMAT": "json",  # or text: one JSON object per log line on stderr, with the request id
    "LOG_LEVEL": "INFO",
    "METRICS_TOKEN": "",  # empty: /metrics answers only to this machine; else to "Authorization: Bearer <token>"
    "HEARTBEAT_MAX_AGE_SECONDS": 120,  # /readyz: a worker silent for longer is not there
    "READYZ_WORKERS": True,  # /readyz also needs a fresh timer-worker heartbeat
    "LIVE_POLL_SECONDS": 15,  # how often an open page asks whether it changed (docs/live.md)
    "TRUSTED_PROXIES": 0,  # reverse proxies in front of the app: the client's address is read from X-Forwarded-For
    # Notifications (docs/notifications.md): none is needed to start; e-mail goes to instance/mail without SMTP_HOST.
    "BASE_URL": "http://127.0.0.1:5000",  # links in notifications point here
    "SMTP_HOST": "",
    "SMTP_PORT": 25,
    "SMTP_STARTTLS": False,
    "SMTP_TLS": False,  # implicit TLS (usually port 465)
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_CA_FILE": "",  # a CA bundle for a server with a private certificate
    "SMTP_TIMEOUT": 30.0,
    "MAIL_FROM": "incidents@localhost",
    "MAIL_SINK": "",  # the Maildir used without SMTP_HOST; default instance/mail
    "HTTP_TIMEOUT": 10.0,  # seconds, for the HTTP channels below
    "SMS_GATEWAY_URL": "",  # JSON {"to", "text"}, HMAC-signed with SMS_GATEWAY_SECRET
    "SMS_GATEWAY_SECRET": "",
    "WECOM_WEBHOOK_URL": "",  # a WeCom group robot (…/webhook/send?key=…); mentions the person's WeCom id
    "DINGTALK_WEBHOOK_URL": "",  # a DingTalk robot (…/robot/send?access_token=…); mentions the person's id
    "DINGTALK_SECRET": "",  # the robot's signing secret (加签)
    "WEBHOOK_URL": "",  # a generic outgoing webhook: every incident event as signed JSON
    "WEBHOOK_SECRET": "",
    "NOTIFY_MAX_ATTEMPTS": 6,
    "NOTIFY_BACKOFF_SECONDS": 30.0,
    "NOTIFY_LEASE_SECONDS": 120.0,
    "NOTIFY_INTERVAL_SECONDS": 5.0,  # how often an idle worker looks for new notifications
    "NOTIFY_POLL_SECONDS": 20.0,  # how often an open page asks for the unread count (the bell)
    "API_RATE_LIMIT": "120 per minute",  # calls per API token (docs/api.md)
    "RATELIMIT_STORAGE_URI": "memory://",  # where the API's rate limits are counted (Flask-Limiter)
    "ALARM_RECOVERY_CHECK": False,  # a cleared alarm also gives the incident's handler a confirm-recovery check (inbox)
    "ALARM_STORM_WINDOW_MINUTES": 10,  # alarms of one system within this many minutes are one storm (one parent)
}


def load(instance_path: Path, overrides: dict | None) -> dict:
    config = dict(DEFAULTS)
    for name, default in DEFAULTS.items():
        if name in os.environ:
            config[name] = _parse(os.environ[name], default)
    config.update(overrides or {})
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'incidents.sqlite3'}"
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _instance_secret(instance_path, "secret_key")
    if not config["AUDIT_HMAC_KEY"]:
        config["AUDIT_HMAC_KEY"] = _instance_secret(instance_path, "audit_hmac_key")
    if not config["AUDIT_CHECKPOINT_DIR"]:
        config["AUDIT_CHECKPOINT_DIR"] = str(instance_path / "audit-checkpoints")
    return config


def _parse(text: str, default: object) -> object:
    if isinstance(default, bool):
        return text.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int | float):  # "0.5" minutes is a valid window even where the default is whole
        number = float(text)
        return int(number) if isinstance(default, int) and number.is_integer() else number
    return text


def _instance_secret(instance_path: Path, name: str) -> str:
    """A random key kept beside the SQLite database, so sessions (and the audit chains) survive restarts."""
    key_file = instance_path / name
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()
