"""Work notes, comments, mentions and withdrawal through the service, on a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.comments import service as comments
from app.comments.models import COMMENT, WORK_NOTE, Comment, Mention
from app.incidents.service import InvalidInput, NotFound, PermissionDenied
from app.models import Incident
from app.users import create_user
from tests.conftest import FAST_HASH
from tests.driver import registration, resolved


def raised_in_portal(service, actors) -> int:
    fields = {"title": "营业厅无法缴费", "description": "缴费页面报错", "contact": "张伟", "source": "portal"}
    return service.start(actors["requester"], incident=fields, requester_id=actors["requester"].user_id)


def test_a_note_and_a_comment_are_rows_and_audit_entries(desk, service, actors):
    incident_id = desk.register(registration())
    note = comments.add(service, actors["first_line"], incident_id, WORK_NOTE, "  内部：怀疑是缓存  ")
    comment = comments.add(service, actors["first_line"], incident_id, COMMENT, "我们正在处理")
    with desk.db.read() as session:
        rows = {row.id: row for row in session.scalars(select(Comment))}
    assert rows[note].kind == WORK_NOTE and rows[note].text == "内部：怀疑是缓存"
    assert rows[comment].kind == COMMENT and rows[comment].author_name == actors["first_line"].name
    kinds = [(kind, data) for kind, data in desk.audit(incident_id) if kind in ("work_note_added", "comment_added")]
    assert kinds == [("work_note_added", {"text": "内部：怀疑是缓存"}), ("comment_added", {"text": "我们正在处理"})]


@pytest.mark.parametrize("text", ["", "   ", "x" * 4001])
def test_empty_or_too_long_text_is_refused(desk, service, actors, text):
    incident_id = desk.register(registration())
    with pytest.raises(InvalidInput):
        comments.add(service, actors["first_line"], incident_id, COMMENT, text)
    assert not [k for k, _ in desk.audit(incident_id) if k == "comment_added"]


def test_who_may_write_what(desk, service, actors, db):
    incident_id = desk.register(registration())  # raised by the `requester` account
    with pytest.raises(PermissionDenied):  # the requester reads it, but writes no work note
        comments.add(service, actors["requester"], incident_id, WORK_NOTE, "想看内部")
    comments.add(service, actors["requester"], incident_id, COMMENT, "补充：只有部分营业厅")
    for role in ("leadership", "auditor"):  # they read, they do not write
        with pytest.raises(PermissionDenied):
            comments.add(service, actors[role], incident_id, COMMENT, "…")
    for role in ("process_owner", "admin"):  # they do not even read it
        with pytest.raises(NotFound):
            comments.add(service, actors[role], incident_id, WORK_NOTE, "…")
    with db.transaction() as session:
        other = create_user(session, "requester2", "password123", ["requester"], hash_method=FAST_HASH)
    from app.users import actor_of

    with pytest.raises(NotFound):  # someone else's incident does not exist for them
        comments.add(service, actor_of(other), incident_id, COMMENT, "…")
    with pytest.raises(NotFound):
        comments.add(service, actors["first_line"], 999_999, COMMENT, "…")


def test_the_requester_comments_until_the_incident_is_closed(desk, service, actors):
    incident_id = desk.register(registration("request"))
    desk.complete("service_desk", incident_id, "initial_support", resolved())
    desk.complete("requester", incident_id, "confirm_resolution", {"confirmation": {"resolved": True}})
    comments.add(service, actors["requester"], incident_id, COMMENT, "谢谢")
    desk.complete("service_desk", incident_id, "close_incident", {"closure": {"code": "resolved", "follow_up": "none"}})
    with pytest.raises(PermissionDenied):
        comments.add(service, actors["requester"], incident_id, COMMENT, "又坏了")
    comments.add(service, actors["service_desk"], incident_id, WORK_NOTE, "关闭后的内部备注")  # handlers still may


def test_mentions_find_handlers_by_user_name_or_display_name(desk, service, actors, db):
    with db.transaction() as session:
        create_user(session, "sunli", "password123", ["incident_manager"], "孙丽", hash_method=FAST_HASH)
        create_user(session, "sunlihua", "password123", ["first_line"], "孙丽华", hash_method=FAST_HASH)
        create_user(session, "zhang", "password123", ["requester"], "张三", hash_method=FAST_HASH)
    incident_id = desk.register(registration())
    text = "@孙丽华请看日志，@first_line 也看看；@张三 不是处理人；邮件 a@b.c；@incident_manager_x 不存在"
    comments.add(service, actors["service_desk"], incident_id, WORK_NOTE, text)
    with db.read() as session:
        mentioned = {user.display_name for user in comments.mentions_in(session, text)}
        rows = list(session.scalars(select(Mention)))
    assert mentioned == {"孙丽华", "first_line user"}  # the longest name wins; requesters have no inbox
    assert len(rows) == 2 and {row.incident_id for row in rows} == {incident_id}
    (_kind, data) = next(item for item in desk.audit(incident_id) if item[0] == "work_note_added")
    assert sorted(data["mentions"]) == ["first_line user", "孙丽华"]


def test_mentions_reach_the_inbox_until_read(desk, service, actors, db):
    incident_id = desk.register(registration())
    comments.add(service, actors["service_desk"], incident_id, COMMENT, "@first_line 请联系提出人")
    comments.add(service, actors["first_line"], incident_id, WORK_NOTE, "@first_line 自己提自己不算")
    with db.read() as session:
        (unread,) = comments.unread(session, actors["first_line"].user_id)
        assert comments.unread_count(session, actors["first_line"].user_id) == 1
    assert unread.incident.id == incident_id and unread.text == "@first_line 请联系提出人"
    assert comments.mark_read(service, actors["service_desk"], [unread.mention_id]) == 0  # not theirs
    assert comments.mark_read(service, actors["first_line"], [unread.mention_id]) == 1
    with db.read() as session:
        assert comments.unread(session, actors["first_line"].user_id) == []


def test_the_requester_withdraws_an_unregistered_incident(desk, service, actors):
    incident_id = raised_in_portal(service, actors)
    assert desk.open_specs(incident_id) == ["register_incident"]
    service.withdraw(actors["requester"], incident_id, "已自行恢复")
    incident = desk.incident(incident_id)
    assert (incident.status, incident.closure_code, incident.next_timer_due) == ("closed", "withdrawn", None)
    assert desk.open_specs(incident_id) == []
    kinds = [kind for kind, _ in desk.audit(incident_id)]
    assert kinds[-2:] == ["withdrawn", "task_withdrawn"]
    with pytest.raises(PermissionDenied):  # once only
        service.withdraw(actors["requester"], incident_id, "")


def test_a_registered_incident_cannot_be_withdrawn(desk, service, actors):
    incident_id = desk.register(registration())
    with pytest.raises(PermissionDenied):
        service.withdraw(actors["requester"], incident_id, "")
    portal = raised_in_portal(service, actors)
    with pytest.raises(PermissionDenied):  # nor by a handler
        service.withdraw(actors["service_desk"], portal, "")
    with desk.db.read() as session:
        assert session.get(Incident, portal).status == "new"
