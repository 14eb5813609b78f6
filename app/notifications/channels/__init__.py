"""The channels a worker delivers through. Each takes an `Outgoing` message and returns when the other
side has accepted it, or raises `DeliveryError` (temporary: retried with back-off; permanent: failed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from app.notifications.messages import Rendered


@dataclass(frozen=True)
class Outgoing:
    key: str  # the idempotency key: receivers that see it twice may drop the second
    event: str
    kind: str
    address: str | None
    recipient: str
    message: Rendered
    params: Mapping[str, Any] = field(default_factory=dict)  # what the template was given (the webhook sends it)


class DeliveryError(Exception):
    def __init__(self, text: str, *, permanent: bool = False):
        super().__init__(text)
        self.permanent = permanent


class Channel(Protocol):
    name: str

    def send(self, outgoing: Outgoing) -> None: ...

    def describe(self) -> str: ...  # where it delivers, for the administrator (never a secret)


def configured(config: Mapping[str, Any], instance_path: Path) -> dict[str, Channel]:
    """The channels the configuration sets up; e-mail always (to the mail sink without SMTP_HOST)."""
    from app.notifications.channels.email import from_config as email
    from app.notifications.channels.http import from_config as http

    return {"email": email(config, instance_path), **http(config)}
