"""The problem ticket's lifecycle, as a table: open → under investigation → known error (with its
workaround) → closed. Pure: no database."""

from __future__ import annotations

from collections.abc import Mapping

from app.messages import N_

OPEN = "open"  # 新建
INVESTIGATING = "investigating"  # 调查中
KNOWN_ERROR = "known_error"  # 已知错误（有变通方案）
CLOSED = "closed"  # 已关闭
STATUSES = (OPEN, INVESTIGATING, KNOWN_ERROR, CLOSED)

# Where a ticket may go from each status. Closing is allowed from any open status (a duplicate, or
# the cause removed by a change), and always needs a note.
NEXT: Mapping[str, tuple[str, ...]] = {
    OPEN: (INVESTIGATING, CLOSED),
    INVESTIGATING: (KNOWN_ERROR, CLOSED),
    KNOWN_ERROR: (CLOSED,),
    CLOSED: (),
}


def refusal(current: str, target: str, note: str, workaround: str) -> tuple[str, str] | None:
    """(field, message id) when the move is not allowed, else None."""
    if target not in STATUSES:
        return "status", N_("Choose a status.")
    if target not in NEXT.get(current, ()):
        return "status", N_("A problem ticket cannot move from this status to that one.")
    if target == KNOWN_ERROR and not workaround.strip():
        return "workaround", N_("A known error needs its workaround.")
    if target == CLOSED and not note.strip():
        return "note", N_("Say why the problem ticket is closed.")
    return None
