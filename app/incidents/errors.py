"""Why the incident service refused an action (app.incidents.service re-exports them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.messages import Message


class ServiceError(Exception):
    """An action was refused; the message is meant for the user (translated where it is shown)."""

    def __init__(self, text: str, **params: Any):
        self.message = Message(text, params)
        super().__init__(str(self.message))


class NotFound(ServiceError):
    pass


class PermissionDenied(ServiceError):
    pass


class Conflict(ServiceError):
    """Someone else changed the incident (or completed the task) first."""


class InvalidInput(ServiceError):
    """Field errors keyed by dotted path ("handling.solution"; "" for the whole form)."""

    def __init__(self, errors: Mapping[str, Message]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{path or 'form'}: {message}" for path, message in self.errors.items()))


__all__ = ["Conflict", "InvalidInput", "NotFound", "PermissionDenied", "ServiceError"]
