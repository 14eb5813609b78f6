"""The console's and the overview's deadline lists and counts are read in disjoint parts (due by now; marked
breached with a later deadline or none; past the warning time only), each along its own index: every open
incident at risk listed and counted once, none missed, in deadline order on every page, and the tiles say
how many — "1000+" past the counting cap, never a difference of capped counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.live import service as live
from app.models import Incident, utcnow
from app.web import paging, queries
from tests.driver import number, registration
from tests.web.pages import section

HOUR = timedelta(hours=1)


def _shapes(desk, db) -> dict[str, int]:
    """Open incidents in every state a deadline can be in (as the timers, an escalation or a wait for a
    change leave them), and a closed one past its deadline."""
    now = utcnow()
    shapes = {
        "past, marked": {"due_at": now - 2 * HOUR, "warn_at": now - 5 * HOUR, "breached": True},
        "past, not marked yet": {"due_at": now - HOUR, "warn_at": now - 3 * HOUR, "breached": False},
        "past, same deadline": {"due_at": now - HOUR, "warn_at": now - 4 * HOUR, "breached": True},
        "marked, deadline moved later": {"due_at": now + 5 * HOUR, "warn_at": now + HOUR, "breached": True},
        "marked, no deadline now": {"due_at": None, "warn_at": None, "breached": True},
        "close": {"due_at": now + HOUR, "warn_at": now - HOUR, "breached": False},
        "close, later": {"due_at": now + 2 * HOUR, "warn_at": now - HOUR, "breached": False},
        "relaxed": {"due_at": now + 10 * HOUR, "warn_at": now + 5 * HOUR, "breached": False},
        "closed": {"due_at": now - 3 * HOUR, "warn_at": now - 4 * HOUR, "breached": True, "status": "closed"},
    }
    ids = {name: desk.register(registration("request")) for name in shapes}
    with db.transaction() as session:
        for name, values in shapes.items():
            session.execute(update(Incident).where(Incident.id == ids[name]).values(**values))
    return ids


def _expected(db) -> tuple[list[int], list[int], list[int]]:
    """At risk, past the deadline, close to it: the definitions as one condition each, in deadline order."""
    now = utcnow()
    with db.read() as session:
        rows = list(session.scalars(select(Incident).where(Incident.status == "open")))
    order = sorted(rows, key=lambda i: (i.due_at is None, i.due_at or now, i.id))
    overdue = [i.id for i in order if i.breached or (i.due_at is not None and i.due_at <= now)]
    warned = [i.id for i in order if i.warn_at is not None and i.warn_at <= now]
    at_risk = [i for i in (i.id for i in order) if i in overdue or i in warned]
    return at_risk, overdue, [i for i in at_risk if i not in overdue]


def test_the_parts_list_and_count_every_incident_at_risk_once_in_deadline_order(desk, db):
    ids = _shapes(desk, db)
    at_risk, overdue, close = _expected(db)
    assert ids["relaxed"] not in at_risk and ids["closed"] not in at_risk
    assert {ids["marked, deadline moved later"], ids["marked, no deadline now"]} <= set(overdue)
    assert close == [ids["close"], ids["close, later"]]
    now = utcnow()
    with db.read() as session:
        for breached_only, expected in ((False, at_risk), (True, overdue)):
            rows = queries.at_risk_rows(now, breached_only=breached_only)
            assert queries.capped_count(session, rows) == len(expected)
            page = queries.at_risk_query(now, breached_only=breached_only)
            for limit in (1, 2, 3, 50):
                for offset in range(len(expected) + 1):
                    listed = [incident.id for incident in session.scalars(page(offset, limit))]
                    assert listed == expected[offset : offset + limit], (breached_only, limit, offset)
        assert queries.capped_count(session, queries.at_risk_rows(now, close_only=True)) == len(close)


def _tiles(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-stat="([^"]+)"><div class="value">([^<]+)<', page))


def test_the_console_and_the_overview_say_how_many_past_and_close_to_their_deadline(desk, db, as_role):
    ids = _shapes(desk, db)
    at_risk, overdue, close = _expected(db)
    console = as_role("incident_manager").get("/manager/").get_data(as_text=True)
    assert _tiles(console)["overdue"] == str(len(overdue)) == "5"
    assert _tiles(console)["close"] == str(len(close)) == "2"
    listed = section(console, "at-risk")
    assert all(number(incident_id) in listed for incident_id in at_risk)
    assert number(ids["relaxed"]) not in listed and number(ids["closed"]) not in listed
    overview = as_role("leadership").get("/overview/").get_data(as_text=True)
    assert _tiles(overview)["breaches"] == "5"
    breaches = section(overview, "breaches")
    assert all(number(incident_id) in breaches for incident_id in overdue)
    assert number(ids["close"]) not in breaches


@pytest.fixture
def cap_of_two(monkeypatch):
    for module in (paging, queries, live):
        monkeypatch.setattr(module, "COUNT_CAP", 2)


def test_past_the_cap_the_tiles_say_more_than(desk, db, as_role, cap_of_two):
    _shapes(desk, db)
    desk.register(registration(core_business_impact="yes"))  # one emergency: under the cap
    console = as_role("incident_manager").get("/manager/").get_data(as_text=True)
    tiles = _tiles(console)
    assert tiles["overdue"] == "2+" and tiles["close"] == "2" and tiles["emergencies"] == "1"  # 5, 2 and 1
    overview = as_role("leadership").get("/overview/").get_data(as_text=True)
    assert _tiles(overview)["breaches"] == "2+" and _tiles(overview)["emergencies"] == "1"
    assert _tiles(overview)["open"] == "2+"  # nine open: counted to the cap, as every tile
