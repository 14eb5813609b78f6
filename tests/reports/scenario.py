"""Incidents with known times, driven through the real process under the frozen clock.

Three faults, registered on Monday 2026-03-02 (T0 = 01:00 UTC = 09:00 in Shanghai):

| time   | A (minor, 24 h)                  | B (unlevelled, 24 h)               | C (minor, 24 h)    |
|--------|----------------------------------|------------------------------------|--------------------|
| T0     | registered                       | registered                         |                    |
| +0.5 h | desk → first line                |                                    |                    |
| +1 h   | first line claims                | desk → second line development     | registered         |
| +3 h   | first line resolves (3 h, timely)|                                    |                    |
| +4 h   |                                  | development claims                 |                    |
| +5 h   | requester confirms               |                                    |                    |
| +6 h   | desk closes                      |                                    |                    |
| +19.5 h|                                  | timer sweep: deadline warning      |                    |
| +24.5 h|                                  | timer sweep: deadline breach       | (warning, same sweep) |
| +25 h  |                                  | incident manager claims the breach follow-up |          |
| +26 h  |                                  | … and completes it                 |                    |
| +30 h  |                                  | development resolves (30 h, late)  | still open         |

B's warning follow-up, never handled, is withdrawn when B is resolved; C's is still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tests.conftest import T0
from tests.driver import pass_on, registration, resolved

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Scenario:
    a: int
    b: int
    c: int


def tick_to(clock, hours: float) -> None:
    clock.move_to(T0 + timedelta(hours=hours))


def three_faults(desk, service, actors, clock) -> Scenario:
    tick_to(clock, 0)
    a = desk.register(registration(complaints=20))
    b = desk.register(registration())
    tick_to(clock, 0.5)
    desk.complete("service_desk", a, "initial_support", pass_on("first_line"))
    tick_to(clock, 1)
    service.claim(actors["first_line"], a, desk.task(a, "first_line_handling").id)
    desk.complete("service_desk", b, "initial_support", pass_on("second_line", "development"))
    c = desk.register(registration(complaints=20))
    tick_to(clock, 3)
    desk.complete("first_line", a, "first_line_handling", resolved())
    tick_to(clock, 4)
    service.claim(actors["second_line_dev"], b, desk.task(b, "second_line_handling").id)
    tick_to(clock, 5)
    desk.complete("requester", a, "confirm_resolution", {"confirmation": {"resolved": True}})
    tick_to(clock, 6)
    desk.complete("service_desk", a, "close_incident", {"closure": {"code": "resolved", "follow_up": "none"}})
    tick_to(clock, 19.5)
    assert service.fire_due_timers() == 1  # B's warning (due at +19.2 h); C's is due at +20.2 h
    tick_to(clock, 24.5)
    assert service.fire_due_timers() == 2  # B's breach (due +24 h), C's warning
    tick_to(clock, 25)
    service.claim(actors["incident_manager"], b, desk.task(b, "follow_up_breach").id)
    tick_to(clock, 26)
    desk.complete("incident_manager", b, "follow_up_breach", {"follow_up": {"action": "coordinated"}})
    tick_to(clock, 30)
    desk.complete("second_line_dev", b, "second_line_handling", resolved())
    return Scenario(a, b, c)
