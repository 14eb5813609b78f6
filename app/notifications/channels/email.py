"""E-mail: SMTP (STARTTLS or TLS, optional login) when SMTP_HOST is set, otherwise a Maildir under
instance/ (the mail sink) that the administrator reads at /notifications/admin/mail."""

from __future__ import annotations

import hashlib
import mailbox
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any

from app.notifications.channels import DeliveryError, Outgoing


def build(outgoing: Outgoing, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = outgoing.address
    mail["Subject"] = outgoing.message.subject
    mail["Date"] = formatdate(localtime=False)
    domain = sender.rpartition("@")[2] or "localhost"
    # The same notification always has the same Message-ID: a resend after a crash can be recognised.
    mail["Message-ID"] = f"<{hashlib.sha256(outgoing.key.encode()).hexdigest()[:32]}@{domain}>"
    mail["X-Notification-Key"] = outgoing.key
    mail.set_content(outgoing.message.body)
    return mail


@dataclass
class SmtpChannel:
    host: str
    port: int
    sender: str
    starttls: bool = False
    tls: bool = False  # implicit TLS (port 465)
    username: str = ""
    password: str = ""
    ca_file: str = ""
    timeout: float = 30
    name: str = "email"

    def describe(self) -> str:
        security = "TLS" if self.tls else "STARTTLS" if self.starttls else "plain"
        login = f", login {self.username}" if self.username else ""
        return f"SMTP {self.host}:{self.port} ({security}{login}), from {self.sender}"

    def send(self, outgoing: Outgoing) -> None:
        if not outgoing.address:
            raise DeliveryError("no e-mail address", permanent=True)
        mail = build(outgoing, self.sender)
        context = ssl.create_default_context(cafile=self.ca_file or None)
        try:
            if self.tls:
                client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.starttls:
                    client.starttls(context=context)
                if self.username:
                    client.login(self.username, self.password)
                client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(f"recipient refused: {error.recipients}", permanent=True) from None
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryError(f"SMTP login refused: {error.smtp_code}") from None
        except smtplib.SMTPResponseException as error:
            permanent = 500 <= error.smtp_code < 600
            raise DeliveryError(f"SMTP {error.smtp_code}: {_text(error.smtp_error)}", permanent=permanent) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {error}") from None


@dataclass
class MailSink:
    """Development default: every message is a file in a Maildir; nothing leaves the machine."""

    path: Path
    sender: str
    name: str = "email"

    def describe(self) -> str:
        return f"mail sink {self.path} (SMTP_HOST not set)"

    def send(self, outgoing: Outgoing) -> None:
        if not outgoing.address:
            raise DeliveryError("no e-mail address", permanent=True)
        # the Maildir's folders made here, each if missing: Maildir(create=True) makes them only when the
        # folder itself is new, so a second worker starting at the same moment found no tmp/ and failed
        for folder in ("tmp", "new", "cur"):
            (self.path / folder).mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(self.path, create=False).add(build(outgoing, self.sender))

    def messages(self, limit: int = 200) -> list[SinkMessage]:
        """The newest messages first."""
        if not self.path.exists():
            return []
        box = mailbox.Maildir(self.path, create=False)
        items = sorted(box.iteritems(), key=lambda item: item[1].get_date(), reverse=True)
        return [SinkMessage.read(key, message) for key, message in items[:limit]]

    def message(self, key: str) -> SinkMessage | None:
        if not self.path.exists():
            return None
        try:
            return SinkMessage.read(key, mailbox.Maildir(self.path, create=False).get_message(key))
        except KeyError:
            return None


@dataclass(frozen=True)
class SinkMessage:
    """A message of the mail sink, decoded for reading."""

    key: str
    sender: str
    to: str
    subject: str
    date: datetime
    body: str

    @classmethod
    def read(cls, key: str, message: mailbox.MaildirMessage) -> SinkMessage:
        def header(name: str) -> str:
            return str(make_header(decode_header(message.get(name, ""))))

        payload = message.get_payload(decode=True) or b""
        body = payload.decode(message.get_content_charset() or "utf-8", errors="replace")
        return cls(key, header("From"), header("To"), header("Subject"), parsedate_to_datetime(message["Date"]), body)


def from_config(config: Mapping[str, Any], instance_path: Path) -> SmtpChannel | MailSink:
    if not config["SMTP_HOST"]:
        return MailSink(Path(config["MAIL_SINK"] or instance_path / "mail"), config["MAIL_FROM"])
    return SmtpChannel(
        host=config["SMTP_HOST"],
        port=int(config["SMTP_PORT"]),
        sender=config["MAIL_FROM"],
        starttls=bool(config["SMTP_STARTTLS"]),
        tls=bool(config["SMTP_TLS"]),
        username=config["SMTP_USERNAME"],
        password=config["SMTP_PASSWORD"],
        ca_file=config["SMTP_CA_FILE"],
        timeout=float(config["SMTP_TIMEOUT"]),
    )


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
