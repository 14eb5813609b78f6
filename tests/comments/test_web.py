"""The pages: which form one is writing is written on it; what the requester reads of it; the inbox's mentions."""

from __future__ import annotations

import re

from app.comments import service as comments
from app.comments.models import COMMENT, WORK_NOTE
from tests.driver import registration


def text_of(response) -> str:
    return text_of_html(response.get_data(as_text=True))


def text_of_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_handler_sees_two_different_forms_and_writes_each(desk, as_role):
    incident_id = desk.register(registration())
    handler = as_role("first_line")
    page = handler.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert 'data-testid="work-note-form"' in page and 'data-testid="comment-form"' in page
    assert "工作备注（内部）" in page and "提出人永远看不到" in page
    assert "留言（提出人可见）" in page and "发送给提出人" in page
    response = handler.post("/comments/x", {"text": "x"})  # no such route: a plain 404
    assert response.status_code == 404
    response = handler.post(f"/incidents/{incident_id}/work-notes", {"text": "内部：看了日志"})
    assert response.status_code == 302 and response.location.endswith(f"/incidents/{incident_id}#conversation")
    handler.post(f"/incidents/{incident_id}/comments", {"text": "我们已收到，正在处理"})
    page = text_of(handler.get(f"/incidents/{incident_id}"))
    assert "工作备注 内部 内部：看了日志" in page
    assert "留言 提出人可见 我们已收到，正在处理" in page


def test_the_requester_reads_comments_not_work_notes_and_answers(desk, service, actors, as_role):
    incident_id = desk.register(registration())
    comments.add(service, actors["first_line"], incident_id, WORK_NOTE, "内部-只给处理人看的")
    comments.add(service, actors["first_line"], incident_id, COMMENT, "请提供截图")
    requester = as_role("requester")
    page = requester.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "请提供截图" in page and "内部-只给处理人看的" not in page
    assert "first_line user" not in page  # a handler by role only
    assert 'data-testid="work-note-form"' not in page and "补充信息" in page
    assert requester.post(f"/incidents/{incident_id}/work-notes", {"text": "x"}).status_code == 403
    response = requester.post(f"/incidents/{incident_id}/comments", {"text": "截图已发邮件"})
    assert response.status_code == 302
    page = text_of(requester.get(f"/incidents/{incident_id}"))
    assert "您的留言已添加，服务台会看到。" in page and "截图已发邮件" in page
    assert "截图已发邮件" in text_of(as_role("service_desk").get(f"/incidents/{incident_id}"))


def test_an_empty_comment_is_refused_with_a_message(desk, as_role):
    incident_id = desk.register(registration())
    handler = as_role("first_line")
    response = handler.post(f"/incidents/{incident_id}/comments", {"text": "  "})
    assert response.status_code == 302
    assert "请先填写内容。" in text_of(handler.get(response.location))
    assert not [kind for kind, _ in desk.audit(incident_id) if kind == "comment_added"]


def test_another_requester_cannot_comment_or_withdraw(desk, service, actors, db, as_role):
    from app.users import create_user
    from tests.conftest import FAST_HASH

    fields = {"title": "缴费失败", "description": "报错", "contact": "张伟", "source": "portal"}
    incident_id = service.start(actors["requester"], incident=fields, requester_id=actors["requester"].user_id)
    with db.transaction() as session:
        create_user(session, "requester2", "password123", ["requester"], hash_method=FAST_HASH)
    other = as_role("requester2")
    assert other.post(f"/incidents/{incident_id}/comments", {"text": "x"}).status_code == 404
    assert other.post(f"/incidents/{incident_id}/withdraw", {"reason": "x"}).status_code == 404
    assert desk.incident(incident_id).status == "new"
    assert [kind for kind, _ in desk.audit(incident_id)] == ["started"]


def test_the_requester_withdraws_while_it_waits_for_registration(desk, service, actors, as_role):
    fields = {"title": "缴费失败", "description": "报错", "contact": "张伟", "source": "portal"}
    incident_id = service.start(actors["requester"], incident=fields, requester_id=actors["requester"].user_id)
    requester = as_role("requester")
    page = text_of(requester.get(f"/incidents/{incident_id}"))
    assert "撤回此事件" in page
    requester.post(f"/incidents/{incident_id}/withdraw", {"reason": "已经恢复了"})
    html = requester.get(f"/incidents/{incident_id}").get_data(as_text=True)
    page = text_of_html(html)
    assert "您已撤回此事件，将不再处理。" in page and "提出人已撤回" in page and "已经恢复了" in page
    assert 'data-testid="withdraw"' not in html and "补充信息" not in page  # closed: no more comments
    desk_page = text_of(as_role("service_desk").get("/inbox"))
    assert "缴费失败" not in desk_page  # the registration task is gone from the desk's inbox


def test_a_mention_shows_the_incident_in_the_inbox_until_marked_read(desk, as_role):
    incident_id = desk.register(registration())
    as_role("service_desk").post(f"/incidents/{incident_id}/work-notes", {"text": "@incident_manager 请关注"})
    manager = as_role("incident_manager")
    page = manager.get("/inbox").get_data(as_text=True)
    assert 'data-testid="mentioned"' in page and "被提及" in page and "@incident_manager 请关注" in page
    mention_id = re.search(r'name="mention" value="(\d+)"', page).group(1)
    badge = '<span class="count" data-count data-live-badge="/live/badge" data-poll="15">1</span>'
    assert f"我的任务 {badge}" in page  # no task of theirs: the mention
    as_role("first_line").post("/mentions/read", {"mention": mention_id})  # not theirs: nothing happens
    assert "@incident_manager 请关注" in manager.get("/inbox").get_data(as_text=True)
    manager.post("/mentions/read", {"mention": mention_id})
    page = manager.get("/inbox").get_data(as_text=True)
    assert 'data-testid="mentioned"' not in page and '<span class="count" data-count hidden data-live-badge=' in page
    timeline = text_of(manager.get(f"/incidents/{incident_id}"))
    assert "提及我的: @incident_manager user" in timeline or "提及我的：@incident_manager user" in timeline
