"""Attaching and reading back, on a real database: limits, sides, audit rows, streaming in slices."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.attachments import service as files
from app.attachments.models import INTERNAL, REQUESTER_SIDE, Attachment
from app.comments import service as comments
from app.comments.models import COMMENT, WORK_NOTE
from app.incidents import visibility
from app.incidents.service import InvalidInput, NotFound, PermissionDenied
from tests.driver import registration

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
LIMITS = files.Limits(per_file=5000, per_incident=9000)


def log(size: int) -> files.Upload:
    return files.Upload("app.log", (b"2026-03-02 ERROR timeout\n" * (size // 25 + 1))[:size])


def test_a_file_is_kept_checked_and_audited(desk, service, actors, db):
    incident_id = desk.register(registration())
    attachment_id = files.attach(service, actors["first_line"], incident_id, files.Upload("截图.png", PNG), LIMITS)
    with db.read() as session:
        row = session.get(Attachment, attachment_id)
        assert (row.filename, row.content_type, row.size, row.side) == ("截图.png", "image/png", len(PNG), INTERNAL)
        assert b"".join(files.chunks(db, attachment_id, row.size)) == PNG
    kind, data = desk.audit(incident_id)[-1]
    assert kind == "attachment_added" and data["filename"] == "截图.png" and data["side"] == INTERNAL


def test_downloads_stream_in_slices(desk, service, actors, db, monkeypatch):
    monkeypatch.setattr(files, "CHUNK", 1000)
    incident_id = desk.register(registration())
    attachment_id = files.attach(service, actors["first_line"], incident_id, files.Upload("a.png", PNG), LIMITS)
    pieces = list(files.chunks(db, attachment_id, len(PNG)))
    assert [len(piece) for piece in pieces] == [1000, 1000, len(PNG) - 2000]
    assert b"".join(pieces) == PNG


def test_limits_per_file_and_per_incident(desk, service, actors):
    incident_id = desk.register(registration())
    with pytest.raises(InvalidInput) as refused:
        files.attach(service, actors["first_line"], incident_id, log(5001), LIMITS)
    assert "limit for one attachment" in str(refused.value.errors["file"])
    files.attach(service, actors["first_line"], incident_id, log(5000), LIMITS)
    with pytest.raises(InvalidInput) as refused:
        files.attach(service, actors["first_line"], incident_id, log(4001), LIMITS)
    assert "would exceed" in str(refused.value.errors["file"])
    files.attach(service, actors["first_line"], incident_id, log(4000), LIMITS)
    with pytest.raises(InvalidInput):
        files.attach(service, actors["first_line"], incident_id, files.Upload("empty.txt", b""), LIMITS)
    assert [kind for kind, _ in desk.audit(incident_id)].count("attachment_added") == 2


def test_content_decides_not_the_name(desk, service, actors, db):
    incident_id = desk.register(registration())
    with pytest.raises(InvalidInput):
        files.attach(service, actors["first_line"], incident_id, files.Upload("shot.png", b"<html><script>x</script>"),
                     LIMITS)  # fmt: skip
    attachment_id = files.attach(service, actors["first_line"], incident_id, files.Upload("page.html", b"plain words"),
                                 LIMITS)  # fmt: skip
    with db.read() as session:
        row = session.get(Attachment, attachment_id)
        assert (row.filename, row.content_type) == ("page.html.txt", "text/plain")


def test_sides_and_who_reads_what(desk, service, actors, db):
    incident_id = desk.register(registration())
    internal = files.attach(service, actors["first_line"], incident_id, files.Upload("内部.log", b"x\n"), LIMITS)
    marked = files.attach(service, actors["first_line"], incident_id, files.Upload("给提出人.log", b"y\n"), LIMITS,
                          for_requester=True)  # fmt: skip
    theirs = files.attach(service, actors["requester"], incident_id, files.Upload("我的.log", b"z\n"), LIMITS)
    comments.add(service, actors["first_line"], incident_id, COMMENT, "见附件", [files.Upload("留言.log", b"c\n")])
    comments.add(service, actors["first_line"], incident_id, WORK_NOTE, "", [files.Upload("备注.log", b"n\n")])
    with db.read() as session:
        sides = {row.filename: row.side for row in session.scalars(select(Attachment))}
        public = [row.filename for row in files.of_incident(session, incident_id, visibility.REQUESTER_SIDE)]
        everything = files.of_incident(session, incident_id, visibility.INTERNAL)
        assert files.readable(session, actors["requester"], internal) is None
        assert files.readable(session, actors["requester"], marked).id == marked
        assert files.readable(session, actors["leadership"], internal).id == internal
        assert files.readable(session, actors["admin"], theirs) is None
    assert sides == {"内部.log": INTERNAL, "给提出人.log": REQUESTER_SIDE, "我的.log": REQUESTER_SIDE,
                     "留言.log": REQUESTER_SIDE, "备注.log": INTERNAL}  # fmt: skip
    assert public == ["给提出人.log", "我的.log", "留言.log"] and len(everything) == 5


def test_who_may_attach(desk, service, actors):
    incident_id = desk.register(registration())
    for role in ("leadership", "auditor"):
        with pytest.raises(PermissionDenied):
            files.attach(service, actors[role], incident_id, files.Upload("a.log", b"a\n"), LIMITS)
    with pytest.raises(NotFound):
        files.attach(service, actors["process_owner"], incident_id, files.Upload("a.log", b"a\n"), LIMITS)
    with pytest.raises(InvalidInput):  # a task step that is not this incident's
        files.attach(service, actors["first_line"], incident_id, files.Upload("a.log", b"a\n"), LIMITS, task_id="nope")


def test_a_file_on_a_task_step_names_the_step(desk, service, actors, db):
    incident_id = desk.register(registration())
    task = desk.task(incident_id, "initial_support")
    attachment_id = files.attach(service, actors["service_desk"], incident_id, files.Upload("a.log", b"a\n"), LIMITS,
                                 task_id=task.id)  # fmt: skip
    with db.read() as session:
        row = session.get(Attachment, attachment_id)
    assert (row.task_id, row.task_name) == (task.id, task.name)


def test_a_refused_file_leaves_no_comment(desk, service, actors, db):
    incident_id = desk.register(registration())
    with pytest.raises(InvalidInput):
        program = files.Upload("x.exe", b"MZ\x90\x00")
        comments.add(service, actors["first_line"], incident_id, COMMENT, "见附件", [program], LIMITS)
    assert not [kind for kind, _ in desk.audit(incident_id) if kind in ("comment_added", "attachment_added")]
