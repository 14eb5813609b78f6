"""Repeat-incident analysis over incidents registered through the real process."""

from __future__ import annotations

from datetime import timedelta

from app.reports import RepeatRow, ReportFilter, repeat_rows, repeats
from tests.conftest import T0
from tests.driver import registration, resolved
from tests.reports.scenario import tick_to

DAY = timedelta(days=1)


def register(desk, title, **facts):
    data = registration(**facts)
    data["incident"]["title"] = title
    return desk.register(data)


def test_two_similar_titles_within_seven_days_form_one_group(desk, clock, db):
    first = register(desk, "计费接口超时", complaints=20)
    desk.complete("service_desk", first, "initial_support", resolved("workaround", "临时切换到备用接口"))
    desk.complete("requester", first, "confirm_resolution", {"confirmation": {"resolved": True}})
    closure = {"code": "workaround", "follow_up": "problem", "follow_up_title": "接口超时根因分析"}
    desk.complete("service_desk", first, "close_incident", {"closure": closure})
    tick_to(clock, 24)
    other = register(desk, "营业厅打印机卡纸")  # same type and category, another title
    tick_to(clock, 48)
    second = register(desk, "计费接口超时")
    tick_to(clock, 24 * 12)
    later = register(desk, "计费接口超时")  # 12 days after the first, 10 after the second

    with db.read() as session:
        groups = repeats(session, ReportFilter(T0, T0 + 30 * DAY))
        assert [[incident.id for incident in group.incidents] for group in groups] == [[first, second]]
        assert repeat_rows(groups) == [
            RepeatRow(1, 2, "重复事件：计费接口超时（2 起，03-02 至 03-04）", True, first, f"INC{first:06d}",
                      "计费接口超时", T0, True),
            RepeatRow(1, 2, "重复事件：计费接口超时（2 起，03-02 至 03-04）", True, second, f"INC{second:06d}",
                      "计费接口超时", T0 + 2 * DAY, False),
        ]  # fmt: skip
        # only incidents registered in the period are compared
        assert repeats(session, ReportFilter(T0 + DAY, T0 + 30 * DAY)) == []
        assert repeats(session, ReportFilter(T0, T0 + 30 * DAY, type="request")) == []
        # a wider window links the later one too
        widened = repeats(session, ReportFilter(T0, T0 + 30 * DAY), window=timedelta(days=10))
        assert [[incident.id for incident in group.incidents] for group in widened] == [[first, second, later]]
        assert other not in [incident.id for group in widened for incident in group.incidents]
