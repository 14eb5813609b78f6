"""Time left before a deadline, in plain Chinese words with its colour state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.web.timefmt import TimeLeft, task_time_left, time_left
from tests.conftest import T0

DUE = T0 + timedelta(hours=24)
WARN = T0 + timedelta(hours=19, minutes=12)


@pytest.mark.parametrize(
    "now, expected",
    [
        (T0, TimeLeft("剩余 1天0小时", "on_track")),
        (WARN - timedelta(seconds=1), TimeLeft("剩余 4小时48分钟", "on_track")),
        (WARN, TimeLeft("剩余 4小时48分钟", "warning")),
        (DUE - timedelta(minutes=5, seconds=30), TimeLeft("剩余 5分钟", "warning")),
        (DUE - timedelta(seconds=30), TimeLeft("剩余 不到1分钟", "warning")),
        (DUE, TimeLeft("已超时 不到1分钟", "breached")),
        (DUE + timedelta(days=1, hours=2, minutes=59), TimeLeft("已超时 1天2小时", "breached")),
    ],
)
def test_time_left(app, now, expected):
    with app.test_request_context():
        assert time_left(DUE, WARN, now=now) == expected


def test_no_deadline(app):
    with app.test_request_context():
        assert time_left(None) == TimeLeft("—", "none")


def test_a_task_limit_turns_amber_after_the_warning_share_of_it(app, clock):
    with app.test_request_context():
        window_end = T0 + timedelta(minutes=30)
        assert task_time_left(T0, window_end).state == "on_track"
        clock.tick(timedelta(minutes=24))  # 80 %
        assert task_time_left(T0, window_end) == TimeLeft("剩余 6分钟", "warning")
