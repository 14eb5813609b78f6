"""Which application role works the tasks of each BPMN lane.

Relabelling a lane in the diagram is a change to this table (data), and a lane the table does not
know is refused when a version is published. Second line is one lane with three groups: the group
is chosen at hand-over and stored in the task data (`dispatch["group"]`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

REQUESTER = "requester"
SERVICE_DESK = "service_desk"
FIRST_LINE = "first_line"
SECOND_LINE_DEV = "second_line_dev"
SECOND_LINE_TEST = "second_line_test"
SECOND_LINE_IS = "second_line_is"
INCIDENT_MANAGER = "incident_manager"

SECOND_LINE_GROUPS: Mapping[str, str] = {
    "development": SECOND_LINE_DEV,
    "test": SECOND_LINE_TEST,
    "information_systems": SECOND_LINE_IS,
}


@dataclass(frozen=True)
class Lane:
    """How to find who may work a task of this lane."""

    role: str | None = None
    # The role comes from task data: variable name, key, and group → role.
    group_from: tuple[str, str] | None = None
    group_roles: Mapping[str, str] = field(default_factory=dict)
    # Tasks of this lane belong to the incident's requester; these roles may act on their behalf.
    for_requester: bool = False
    delegates: tuple[str, ...] = ()

    def candidate_role(self, data: Mapping[str, Any]) -> str | None:
        """The role whose members may claim the task, given the task's data."""
        if self.group_from is None:
            return self.role
        variable, key = self.group_from
        group = (data.get(variable) or {}).get(key)
        return self.group_roles.get(group)


# Tasks that, besides their lane's role, these roles may work too. The document lets first line
# register incidents as well ("可以在ITIL上登记事件单"); the diagram keeps 事件登记 in the 服务台 lane.
ALSO_WORKED_BY: Mapping[str, tuple[str, ...]] = {"register_incident": (FIRST_LINE,)}
REGISTRARS = (SERVICE_DESK, FIRST_LINE)


def task_roles(spec_id: str, candidate_role: str | None) -> frozenset[str]:
    """Every role that may work a (non-requester) task: its lane's role and the roles named above."""
    return frozenset({candidate_role, *ALSO_WORKED_BY.get(spec_id, ())} - {None})


LANES: Mapping[str, Lane] = {
    "事件提出人": Lane(role=REQUESTER, for_requester=True, delegates=(SERVICE_DESK,)),
    "服务台": Lane(role=SERVICE_DESK),
    "一线": Lane(role=FIRST_LINE),
    "二线": Lane(group_from=("dispatch", "group"), group_roles=SECOND_LINE_GROUPS),
    "事件经理": Lane(role=INCIDENT_MANAGER),
}
REQUESTER_LANES = [name for name, lane in LANES.items() if lane.for_requester]  # whose tasks the requester works
