"""Repeat groups computed by the database (app/reports/repeat_groups.py) equal the groups of the rule
computed in Python (`repeats.repeats`, itself checked against every pair in test_repeats.py), on
random incidents: titles that normalize alike or are similar, systems written with spaces, empty
titles, categories, types, levels, problem tickets, children of a major incident, periods that cut
runs, and a title changed after registration (its keys follow)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.links.models import PART_OF, IncidentLink
from app.models import Incident, ProblemTicket, ProcessVersion
from app.reports import ReportFilter, repeat_groups, repeat_rows, repeats
from tests.conftest import T0

DAY = timedelta(days=1)
TITLES = ["计费接口超时", "计费接口超时。", " 计费接口超时 ", "计费接口响应慢", "计费接口超时（南京）",
          "计费接口超时（苏州）", "营业厅打印机卡纸", "打印机卡纸", "", "！", "话单采集失败",
          "话单采集失败了"]  # fmt: skip


def _fill(db, rng: random.Random, count: int) -> list[int]:
    with db.transaction() as session:
        version = session.scalar(select(ProcessVersion.id).limit(1))
        incidents = []
        for _ in range(count):
            at = T0 + rng.choice([0, 6, 13, 20]) * DAY + rng.randrange(0, 48) * timedelta(hours=3)
            incident = Incident(
                process_version_id=version, lock_version=1, status="closed", title=rng.choice(TITLES),
                type=rng.choice(["fault", "fault", "request"]), fault_category=rng.choice(["interface", "data", None]),
                system=rng.choice([None, "计费系统", " 计费系统", "CRM", "  "]), level=rng.choice(["minor", None]),
                created_at=at - timedelta(minutes=5), registered_at=at,
            )  # fmt: skip
            session.add(incident)
            incidents.append(incident)
        session.flush()
        ids = [incident.id for incident in incidents]
        for incident_id in rng.sample(ids, 3):
            session.add(ProblemTicket(incident_id=incident_id, title="问题", created_by="sunli", created_at=T0))
        child, parent = rng.sample(ids, 2)
        session.add(IncidentLink(from_id=child, to_id=parent, kind=PART_OF, created_by="sunli", created_at=T0))
    return ids


def _compare(session, flt, window=repeat_groups.WINDOW):
    expected = repeats(session, flt, window)
    found = repeat_groups.groups(session, flt, window, head=3)
    repeat_groups.with_ids(session, flt, found, 10_000, window)
    assert [sorted(group.ids) for group in found] == [sorted(c.id for c in g.incidents) for g in expected], flt
    assert [(g.size, g.first_at, g.last_at, g.has_problem_ticket, g.suggested_title) for g in found] == [
        (len(g.incidents), g.first_at, g.last_at, g.has_problem_ticket, g.suggested_title) for g in expected
    ], flt
    assert [[c.id for c in g.incidents] for g in found] == [[c.id for c in g.incidents[:3]] for g in expected]
    assert [g.latest.id for g in found] == [g.incidents[-1].id for g in expected]
    assert list(repeat_groups.rows(session, flt, window)) == repeat_rows(expected), flt
    return expected


@pytest.mark.parametrize("seed", [7, 8])
def test_the_database_groups_equal_the_rule(db, service, seed):
    rng = random.Random(seed)
    ids = _fill(db, rng, 60)
    with db.read() as session:
        everything = _compare(session, ReportFilter(T0 - DAY, T0 + 40 * DAY))
        assert len(everything) >= 3  # the data make groups
        _compare(session, ReportFilter(T0 + 5 * DAY, T0 + 21 * DAY))  # cuts runs at both ends
        _compare(session, ReportFilter(T0 - DAY, T0 + 40 * DAY, type="request"))
        _compare(session, ReportFilter(T0 - DAY, T0 + 40 * DAY, level="minor"))
        _compare(session, ReportFilter(T0 - DAY, T0 + 40 * DAY), window=timedelta(days=2))
    with db.transaction() as session:  # titles change: the keys follow at commit
        for incident_id in rng.sample(ids, 10):
            session.get(Incident, incident_id).title = rng.choice(TITLES)
    with db.read() as session:
        _compare(session, ReportFilter(T0 - DAY, T0 + 40 * DAY))
