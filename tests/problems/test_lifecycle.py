"""The problem ticket's lifecycle table, at every move."""

from __future__ import annotations

import pytest

from app.problems.lifecycle import CLOSED, INVESTIGATING, KNOWN_ERROR, OPEN, STATUSES, refusal


@pytest.mark.parametrize(
    ("current", "target", "note", "workaround", "refused"),
    [
        (OPEN, INVESTIGATING, "", "", None),
        (OPEN, CLOSED, "重复问题单", "", None),
        (OPEN, CLOSED, "", "", "note"),  # closing needs a note
        (OPEN, KNOWN_ERROR, "", "重启进程", "status"),  # investigated first
        (INVESTIGATING, KNOWN_ERROR, "", "重启进程", None),
        (INVESTIGATING, KNOWN_ERROR, "", "  ", "workaround"),  # a known error needs its workaround
        (INVESTIGATING, OPEN, "", "", "status"),  # no way back
        (KNOWN_ERROR, CLOSED, "变更 REQ-1 已上线，根因消除", "", None),
        (KNOWN_ERROR, INVESTIGATING, "", "", "status"),
        (CLOSED, OPEN, "重新打开", "", "status"),  # closed is final
        (OPEN, "resolved", "", "", "status"),  # not a status
    ],
)
def test_moves(current, target, note, workaround, refused):
    result = refusal(current, target, note, workaround)
    assert (result[0] if result else None) == refused


def test_statuses_in_order():
    assert STATUSES == ("open", "investigating", "known_error", "closed")
