"""What is internal stays internal: the requester reads every page they can open — every route of the
app, with real ids — and finds their own text, the status, the announcement, the solution and their
confirmation, but never a handler's note, form answer, internal task or name. Handlers read it all."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import url_for

from app.attachments import service as files
from app.comments import service as comments
from app.comments.models import COMMENT, WORK_NOTE
from app.incidents import visibility
from tests.driver import pass_on, resolved
from tests.replays import replayed
from tests.web.conftest import Client
from tests.web.test_authorization import PARAMETER, routes

# Written by handlers: must never reach the requester.
INTERNAL = (
    "内部-转发跟踪",
    "内部-补充说明",
    "内部-认定紧急",
    "内部-经理协调记录",
    "内部-一线诊断",
    "内部-通报内容",
    "内部-通报对象",
    "内部-跟踪记录",
    "内部-关闭说明",
    "内部-工作备注",
    "内部-附件",
    "service_desk user",
    "first_line user",
    "incident_manager user",
    "一线尝试解决",  # a handler's task
    "当次故障累计投诉数",  # a fact
    "服务台代事件提出人确认",  # the desk's box on the confirmation
)
# The requester-side record: must reach them.
PUBLIC = (
    "公开的附件", "公开的留言",
    "描述第一行\n描述第二行", "张伟 13800000000", "对外公告：正在抢修", "公开的解决方案", "问题是否已解决"
)  # fmt: skip


@dataclass
class World:
    closed: int  # resolved, confirmed by the requester and closed
    waiting: int  # resolved, waiting for the requester's confirmation
    task_id: str  # that confirmation


def story(desk, actors, *, close: bool) -> int:
    """An emergency with every kind of handler's writing, resolved by first line."""
    data = {
        "incident": {"title": "计费接口超时", "description": "描述第一行\n描述第二行", "source": "hotline",
                     "contact": "张伟 13800000000"},
        "facts": {"type": "fault", "fault_category": "interface", "core_business_impact": "no", "complaints": 60},
        "on_spot": {"solved": False},
    }  # fmt: skip
    incident_id = desk.register(data)
    service, manager = desk.service, actors["incident_manager"]
    service.forward_for_tracking(actors["service_desk"], incident_id, "内部-转发跟踪")
    comments.add(service, actors["service_desk"], incident_id, WORK_NOTE, "内部-工作备注 @incident_manager")
    comments.add(service, actors["first_line"], incident_id, COMMENT, "公开的留言")
    files.attach(service, actors["first_line"], incident_id, files.Upload("内部-附件.log", b"x\n"), files.Limits())
    comments.add(service, actors["service_desk"], incident_id, WORK_NOTE, "", [files.Upload("内部-附件2.log", b"y\n")])
    files.attach(service, actors["first_line"], incident_id, files.Upload("公开的附件.log", b"z\n"), files.Limits(),
                 for_requester=True)  # fmt: skip
    service.add_facts(actors["service_desk"], incident_id, {"note": "内部-补充说明", "complaints": 70})
    service.add_facts(manager, incident_id, {"note": "内部-认定紧急", "designated_emergency": True})
    desk.complete("incident_manager", incident_id, "notify_fault", {"notification": {
        "channels": ["sms"], "recipients": "内部-通报对象", "content": "内部-通报内容"}})  # fmt: skip
    desk.complete("incident_manager", incident_id, "track_incident",
                  {"tracking": {"action": "following", "note": "内部-跟踪记录"}})  # fmt: skip
    desk.complete("incident_manager", incident_id, "coordinate_emergency",
                  {"handling": {"outcome": "announce", "announcement": "对外公告：正在抢修"}})  # fmt: skip
    handling = pass_on("first_line")
    handling["handling"]["notes"] = "内部-经理协调记录"
    desk.complete("incident_manager", incident_id, "coordinate_emergency", handling)
    solved = resolved(text="公开的解决方案")
    solved["handling"]["notes"] = "内部-一线诊断"
    desk.complete("first_line", incident_id, "first_line_handling", solved)
    if close:
        desk.complete("requester", incident_id, "confirm_resolution", {"confirmation": {"resolved": True}})
        desk.complete("service_desk", incident_id, "close_incident",
                      {"closure": {"code": "resolved", "follow_up": "none", "note": "内部-关闭说明"}})  # fmt: skip
    return incident_id


@pytest.fixture
def world(desk, actors, clock) -> World:
    return replayed(desk.db, clock, lambda: _world(desk, actors))


def _world(desk, actors) -> World:
    closed, waiting = story(desk, actors, close=True), story(desk, actors, close=False)
    return World(closed, waiting, desk.task(waiting, "confirm_resolution").id)


def urls(app, world: World) -> list[str]:
    """Every GET route, with the worlds' ids (both incidents) where it takes them."""
    found = []
    for rule in routes(app):
        if "GET" not in rule.methods:
            continue
        names = [name for _converter, name in PARAMETER.findall(rule.rule)]
        for incident_id in (world.closed, world.waiting):
            values = {"incident_id": incident_id, "task_id": world.task_id, "name": "breaches"}
            values.update({name: 1 for name in names if name not in values})
            with app.test_request_context():
                found.append(url_for(rule.endpoint, **{name: values[name] for name in names}))
            if "incident_id" not in names:
                break
    return found


def test_the_requester_never_reads_anything_internal_on_any_route(app, world, as_role):
    requester = as_role("requester")
    read, seen = [], ""
    for url in urls(app, world):
        response = requester.get(url)
        page = response.get_data(as_text=True)
        leaked = [marker for marker in INTERNAL if marker in page]
        assert not leaked, f"{url} shows {leaked}"
        if response.status_code == 200:
            read.append(url)
            seen += page
    for timeline in ("work", "classification", "flow", "assignment"):
        page = requester.get(f"/incidents/{world.closed}?timeline={timeline}").get_data(as_text=True)
        assert not [marker for marker in INTERNAL if marker in page], timeline
    # a refused submission comes back with the same page
    response = requester.post(f"/tasks/{world.waiting}/{world.task_id}", {"spec_id": "confirm_resolution"})
    assert response.status_code == 422
    assert not [marker for marker in INTERNAL if marker in response.get_data(as_text=True)]
    # what they may read, they do read
    assert {f"/incidents/{world.closed}", f"/tasks/{world.waiting}/{world.task_id}", "/portal/"} <= set(read)
    for text in PUBLIC:
        assert text in seen, text


def test_handlers_read_everything_the_requester_may_not(world, as_role):
    page = as_role("first_line").get(f"/incidents/{world.closed}").get_data(as_text=True)
    for marker in INTERNAL[:-1]:  # the desk's box: its answer was not given on this incident
        assert marker in page, marker


def test_another_requester_reads_nothing(world, db, as_role):
    from app.users import create_user
    from tests.conftest import FAST_HASH

    with db.transaction() as session:
        create_user(session, "requester2", "password123", ["requester"], hash_method=FAST_HASH)
    other = as_role("requester2")
    for url in (f"/incidents/{world.closed}", f"/tasks/{world.waiting}/{world.task_id}"):
        response = other.get(url)
        assert response.status_code in (403, 404)
        assert "计费接口超时" not in response.get_data(as_text=True)


def test_the_requesters_form_cannot_send_the_desks_box(world, desk, as_role):
    requester = as_role("requester")
    response = requester.post(f"/tasks/{world.waiting}/{world.task_id}", {
        "spec_id": "confirm_resolution", "confirmation.resolved": "true", "confirmation.on_behalf": "true",
        "confirmation.customer_confirmed": "true"})  # fmt: skip
    assert response.status_code == 302
    kind, data = next((k, d) for k, d in reversed(desk.audit(world.waiting)) if k == "task_completed")
    assert data["data"]["confirmation"]["resolved"] is True
    assert (
        data["data"]["confirmation"]["on_behalf"] is None and data["data"]["confirmation"]["customer_confirmed"] is None
    )


def test_the_rule_is_one_function_of_the_reader(world, desk, actors):
    incident = desk.incident(world.closed)
    assert visibility.audience(actors["requester"], incident) == visibility.REQUESTER_SIDE
    for role in ("service_desk", "first_line", "incident_manager", "leadership", "auditor"):
        assert visibility.audience(actors[role], incident) == visibility.INTERNAL, role
    for role in ("process_owner", "admin"):
        assert visibility.audience(actors[role], incident) is None, role


def test_signed_out_readers_are_sent_to_sign_in(app, world):
    client = Client(app.test_client())
    response = client.get(f"/incidents/{world.closed}")
    assert response.status_code == 302 and "/login" in response.location
