"""The fault notification (故障通报): owed from yellow by any route, it stays with the incident
manager through resolution and closure (a reopened incident still has it) unless the manager waives
it with a reason once the incident is resolved (docs/process-model.md, spec §4.6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.incidents import projection
from app.messages import N_, Message

NOTIFICATION = "notify_fault"  # the task (the contract with the diagram)
WAIVED = "waived"  # notification.outcome of a waiver


def refused_waiver(spec_id: str, answers: Mapping[str, Any], status: str) -> dict[str, Message]:
    """Field errors when a waiver comes while the fault is still handled (the notification is owed then)."""
    outcome = (answers.get("notification") or {}).get("outcome")
    if spec_id != NOTIFICATION or outcome != WAIVED or status != projection.OPEN:
        return {}
    return {
        "notification.outcome": Message(N_("A fault notification can be waived only once the incident is resolved."))
    }
