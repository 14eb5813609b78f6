"""A driver that takes incidents through the process the way the roles would, via the service."""

from __future__ import annotations

import json

from sqlalchemy import select

from app import audit
from app.engine import operations
from app.engine.runtime import Run
from app.incidents import state
from app.models import Incident, OpenTask


def number(incident_id: int) -> str:
    """An incident's number as users see it."""
    return f"INC{incident_id:06d}"


def registration(type_: str = "fault", *, solved: bool = False, kind: str = "resolved", **facts) -> dict:
    fact_values = {"type": type_, **facts}
    if type_ == "fault":
        fact_values.setdefault("fault_category", "interface")
        fact_values.setdefault("core_business_impact", "no")
    on_spot = {"solved": solved}
    if solved:
        on_spot.update(kind=kind, solution="重启了计费接口进程")
    return {
        "incident": {"title": "计费接口超时", "description": "营业厅反馈缴费后余额不更新", "source": "hotline"},
        "facts": fact_values,
        "on_spot": on_spot,
    }


def resolved(kind: str = "resolved", text: str = "修复了接口配置") -> dict:
    return {"handling": {"outcome": "resolved", "solution_kind": kind, "solution": text, "notes": "已诊断"}}


def noted(data: dict, notes: str) -> dict:
    """A handling step's answers with the handler's notes."""
    data["handling"]["notes"] = notes
    return data


def pass_on(stage: str, group: str | None = None) -> dict:
    handling = {"outcome": "pass_on", "next_stage": stage, "notes": "无法在本环节解决"}
    if group:
        handling["group"] = group
    return {"handling": handling}


class Desk:
    def __init__(self, service, db, actors):
        self.service, self.db, self.actors = service, db, actors

    def register(self, data: dict | None = None, *, requester: str | None = "requester") -> int:
        requester_id = self.actors[requester].user_id if requester else None
        return self.service.start(
            self.actors["service_desk"], incident=data["incident"] if data else None,
            requester_id=requester_id, registration=data or registration(),
        )  # fmt: skip

    def incident(self, incident_id: int) -> Incident:
        with self.db.read() as session:
            return session.get(Incident, incident_id)

    def open_tasks(self, incident_id: int) -> list[OpenTask]:
        with self.db.read() as session:
            query = select(OpenTask).where(OpenTask.incident_id == incident_id).order_by(OpenTask.spec_id)
            return list(session.scalars(query))

    def open_specs(self, incident_id: int) -> list[str]:
        return [task.spec_id for task in self.open_tasks(incident_id)]

    def task(self, incident_id: int, spec_id: str) -> OpenTask:
        matches = [task for task in self.open_tasks(incident_id) if task.spec_id == spec_id]
        assert len(matches) == 1, f"expected one open {spec_id}, open: {self.open_specs(incident_id)}"
        return matches[0]

    def complete(self, role: str, incident_id: int, spec_id: str, data: dict) -> None:
        task = self.task(incident_id, spec_id)
        self.service.complete_task(self.actors[role], incident_id, task.id, data)
        self.assert_round_trip(incident_id)

    def state(self, incident_id: int) -> str:
        """The stored engine state (serializer text)."""
        with self.db.read() as session:
            return state.text_of(session, incident_id)

    def model(self, incident_id: int):
        with self.db.read() as session:
            version_id = session.get(Incident, incident_id).process_version_id
            return self.service.models.get_by_id(session, version_id)

    def audit(self, incident_id: int) -> list[tuple[str, dict]]:
        with self.db.read() as session:
            return [(event.kind, audit.data_of(event)) for event in audit.events_of(session, incident_id)]

    def audit_kinds(self, incident_id: int) -> list[str]:
        return [kind for kind, _ in self.audit(incident_id)]

    def assert_round_trip(self, incident_id: int) -> None:
        """The stored instance survives load → save unchanged (checked at every wait state)."""
        stored = self.state(incident_id)
        again = Run.load(self.model(incident_id), stored, operations.Context(self.service.clock())).dump()
        assert json.loads(again) == json.loads(stored)
        assert again == stored
