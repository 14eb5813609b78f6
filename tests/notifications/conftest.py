"""Notification fixtures: a real SMTP server (aiosmtpd) in the test process, contact details on the
per-role accounts, and reading the outbox."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.models import User
from app.notifications.models import Notification
from tests.web.conftest import as_role, web  # noqa: F401 — pages of the notification area


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer:
    """Collects what it accepts. `hold_next()` makes the next message wait in DATA until `release()`,
    and then be refused with 451 (the sender never got a 250: not delivered)."""

    def __init__(self):
        self.received: list = []
        self.arrived = threading.Event()
        self.released = threading.Event()
        self.holding = False

    async def handle_DATA(self, server, session, envelope):
        if self.holding:
            self.holding = False
            self.arrived.set()
            while not self.released.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 interrupted"
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(message)
        return "250 OK"

    def hold_next(self) -> None:
        self.holding = True

    def release(self) -> None:
        self.released.set()

    def keys(self) -> list[str]:
        return [message["X-Notification-Key"] for message in self.received]


@pytest.fixture
def smtp_server():
    """(server, port): a real SMTP server on a loopback port."""
    server = MailServer()
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    yield server, port
    server.release()
    controller.stop()


@pytest.fixture
def reachable(db, actors):
    """Every per-role account gets an e-mail address <role>@example.com; the requester reads English."""
    with db.transaction() as session:
        for user in session.scalars(select(User)):
            user.email = f"{user.username}@example.com"
            if user.username == "requester":
                user.locale = "en"
    return actors


def outbox(db, **where) -> list[Notification]:
    """The outbox's rows matching `where`; the generic webhook's only when asked for (channel="webhook")."""
    with db.read() as session:
        query = select(Notification).order_by(Notification.id)
        if where.get("channel") != "webhook":
            query = query.where(Notification.channel != "webhook")
        for name, value in where.items():
            query = query.where(getattr(Notification, name) == value)
        return list(session.scalars(query))


def who(rows) -> list[tuple[str, str, str]]:
    """(kind, recipient, channel) of each row, sorted."""
    return sorted((row.kind, row.recipient_name.removesuffix(" user"), row.channel) for row in rows)


def params(row: Notification) -> dict:
    return json.loads(row.params)
