"""Working together on an incident, the way people do it in the browser: the requester adds
information, the desk writes an internal work note that brings the incident manager in (@mention)
and answers the requester; the requester reads the answer, never the note, and withdraws."""

from __future__ import annotations

from playwright.sync_api import expect


def test_notes_comments_mentions_and_withdrawal(open_as, live_server, desk, actors):
    fields = {"title": "营业厅打印机无法出票", "description": "出票时报错", "contact": "张伟", "source": "portal"}
    incident_id = desk.service.start(actors["requester"], incident=fields, requester_id=actors["requester"].user_id)
    url = f"{live_server}/incidents/{incident_id}"

    requester = open_as("requester")
    requester.goto(url)
    form = requester.get_by_test_id("comment-form")
    expect(form).to_contain_text("服务台和处理您事件的人员会看到")
    form.get_by_label("您的留言").fill("补充：只有二号窗口的打印机")
    form.get_by_role("button", name="发送").click()
    expect(requester.get_by_test_id("timeline")).to_contain_text("补充：只有二号窗口的打印机")

    service_desk = open_as("service_desk")
    service_desk.goto(url)
    expect(service_desk.get_by_test_id("timeline")).to_contain_text("补充：只有二号窗口的打印机")
    note = service_desk.get_by_test_id("work-note-form")
    expect(note).to_contain_text("提出人永远看不到")
    note.get_by_label("工作备注（内部）").fill("内部：疑似驱动问题 @incident_manager 请关注")
    note.get_by_role("button", name="添加内部工作备注").click()
    entry = service_desk.locator("[data-kind=work_note_added]")
    expect(entry).to_contain_text("内部：疑似驱动问题")
    expect(entry).to_contain_text("内部")
    expect(entry).to_contain_text("@incident_manager user")
    comment = service_desk.get_by_test_id("comment-form")
    comment.get_by_label("留言（提出人可见）").fill("已安排工程师上门")
    comment.get_by_role("button", name="发送给提出人").click()
    expect(service_desk.locator("[data-kind=comment_added]").first).to_contain_text("提出人可见")

    manager = open_as("incident_manager")
    manager.goto(f"{live_server}/inbox")
    mention = manager.get_by_test_id("mention")
    expect(mention).to_contain_text("营业厅打印机无法出票")
    expect(mention).to_contain_text("被提及")
    mention.get_by_role("link").first.click()
    expect(manager.get_by_test_id("timeline")).to_contain_text("内部：疑似驱动问题")
    manager.goto(f"{live_server}/inbox")
    manager.get_by_test_id("mention").get_by_role("button", name="标为已读").click()
    expect(manager.get_by_test_id("mentioned")).to_have_count(0)

    requester.reload()
    timeline = requester.get_by_test_id("timeline")
    expect(timeline).to_contain_text("已安排工程师上门")
    expect(timeline).to_contain_text("服务台")  # the desk by role, not by name
    expect(requester.locator("body")).not_to_contain_text("疑似驱动问题")
    expect(requester.locator("body")).not_to_contain_text("service_desk user")
    requester.get_by_test_id("withdraw").locator("summary").click()
    requester.get_by_label("原因（可选）").fill("打印机已自行恢复")
    requester.get_by_role("button", name="撤回事件").click()
    expect(requester.get_by_test_id("summary")).to_contain_text("提出人已撤回")
    expect(requester.get_by_test_id("withdraw")).to_have_count(0)


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def test_attachments_on_the_incident_a_comment_and_a_step(open_as, live_server, desk, tmp_path):
    from tests.driver import registration

    incident_id = desk.register(registration())
    url = f"{live_server}/incidents/{incident_id}"
    (tmp_path / "内部诊断.log").write_bytes("2026-03-02 ERROR 超时\n".encode())
    (tmp_path / "给用户的说明.txt").write_bytes("请重启客户端\n".encode())
    (tmp_path / "截图.png").write_bytes(PNG)
    (tmp_path / "伪装.png").write_bytes(b"<html><script>alert(1)</script></html>")

    handler = open_as("service_desk")
    handler.goto(url)
    box = handler.get_by_test_id("attach-form")
    box.locator("input[type=file]").set_input_files(str(tmp_path / "内部诊断.log"))
    box.get_by_role("button", name="上传").click()
    expect(handler.locator(".flash")).to_contain_text("附件已添加")
    expect(handler.get_by_test_id("file").filter(has_text="内部诊断.log")).to_contain_text("内部")
    box = handler.get_by_test_id("attach-form")
    box.locator("input[type=file]").set_input_files(str(tmp_path / "伪装.png"))
    box.get_by_role("button", name="上传").click()
    expect(handler.locator(".flash")).to_contain_text("不接受这种文件")
    comment = handler.get_by_test_id("comment-form")
    comment.get_by_label("留言（提出人可见）").fill("请看附件中的步骤")
    comment.locator("input[type=file]").set_input_files(str(tmp_path / "给用户的说明.txt"))
    comment.get_by_role("button", name="发送给提出人").click()
    expect(handler.get_by_test_id("file").filter(has_text="给用户的说明.txt")).to_contain_text("提出人可见")
    task = desk.task(incident_id, "initial_support")
    handler.goto(f"{live_server}/tasks/{incident_id}/{task.id}")
    step = handler.get_by_test_id("attach-form")
    expect(step).to_contain_text("为此环节添加附件")
    step.locator("input[type=file]").set_input_files(str(tmp_path / "截图.png"))
    step.get_by_role("button", name="上传").click()
    expect(handler.get_by_test_id("file").filter(has_text="截图.png")).to_contain_text("初始支持")

    requester = open_as("requester")
    requester.goto(url)
    listed = requester.get_by_test_id("attachments")
    expect(listed).to_contain_text("给用户的说明.txt")
    expect(requester.locator("body")).not_to_contain_text("内部诊断.log")
    expect(requester.locator("body")).not_to_contain_text("截图.png")
    with requester.expect_download() as download:
        listed.get_by_role("link", name="给用户的说明.txt").click()
    assert download.value.suggested_filename == "给用户的说明.txt"
    assert open(download.value.path(), "rb").read() == "请重启客户端\n".encode()
    mine = requester.get_by_test_id("attach-form")
    mine.locator("input[type=file]").set_input_files(str(tmp_path / "截图.png"))
    mine.get_by_role("button", name="上传").click()
    expect(requester.get_by_test_id("attachments")).to_contain_text("截图.png")
    handler.goto(url)
    expect(handler.get_by_test_id("file").filter(has_text="requester user")).to_contain_text("提出人可见")


def test_a_major_incident_and_its_children(open_as, live_server, desk, actors):
    from tests.browser.steps import resolve
    from tests.driver import number, registration

    parent = desk.register(registration())
    children = [desk.register(registration()) for _ in range(2)]
    handler = open_as("service_desk")
    for child in children:  # each complaint joins the storm from its own page
        handler.goto(f"{live_server}/incidents/{child}")
        card = handler.get_by_test_id("links")
        card.locator("summary").click()
        card.get_by_label("本事件").select_option(label="属于重大事件")
        card.get_by_label("事件编号").fill(number(parent))
        card.get_by_role("button", name="关联").click()
        expect(handler.get_by_test_id("major-parent")).to_contain_text("处理中")
    handler.goto(f"{live_server}/incidents/{parent}")
    expect(handler.get_by_test_id("links")).to_contain_text("2 个子事件")
    task = desk.task(parent, "initial_support")
    handler.goto(f"{live_server}/tasks/{parent}/{task.id}")
    resolve(handler, "更换了故障交换机")
    handler.goto(f"{live_server}/incidents/{parent}")
    form = handler.get_by_test_id("resolve-children")
    expect(form).to_contain_text("此重大事件已解决")
    form.get_by_role("button", name="解决所选子事件").click()
    expect(handler.get_by_test_id("summary-line")).to_have_text("2 个中已完成 2 个。")
    handler.get_by_role("link", name=number(children[0])).click()
    expect(handler.get_by_test_id("major-parent")).to_contain_text("已解决")
    expect(handler.get_by_test_id("solution")).to_contain_text("更换了故障交换机")


def test_search_and_similar_incidents_while_registering(open_as, live_server, desk, actors):
    from app.comments import service as comments
    from app.comments.models import WORK_NOTE
    from tests.driver import number, registration

    existing = desk.register(registration())  # 计费接口超时 / 营业厅反馈缴费后余额不更新
    comments.add(desk.service, actors["first_line"], existing, WORK_NOTE, "怀疑是余额同步进程挂起")
    handler = open_as("service_desk")
    handler.goto(f"{live_server}/incidents/new")
    box = handler.get_by_test_id("similar-box")
    expect(box).to_contain_text("输入标题和描述时")
    handler.locator('[name="incident.title"]').press_sequentially("营业厅缴费后余额不更新", delay=20)
    expect(box.get_by_test_id("similar")).to_contain_text(number(existing))
    expect(box).to_contain_text("相似事件")

    handler.get_by_role("link", name="搜索").first.click()
    handler.get_by_label("关键词").fill("同步进程")
    handler.get_by_role("button", name="搜索").click()
    hit = handler.get_by_test_id("hit")
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text("工作备注")
    expect(hit.locator("mark")).to_have_text("同步进程")
    hit.get_by_role("link", name=number(existing)).click()
    expect(handler.get_by_test_id("timeline")).to_contain_text("怀疑是余额同步进程挂起")


def test_pages_follow_changes_without_a_reload(app, open_as, live_server, desk, actors):
    from app.comments import service as comments
    from app.comments.models import COMMENT, WORK_NOTE
    from tests.driver import registration

    app.config["LIVE_POLL_SECONDS"] = 2
    incident_id = desk.register(registration())
    requester = open_as("requester")
    requester.goto(f"{live_server}/incidents/{incident_id}")
    manager = open_as("incident_manager")
    manager.goto(f"{live_server}/manager/")
    leader = open_as("leadership")
    leader.goto(f"{live_server}/overview/")
    for page in (requester, manager, leader):
        page.evaluate("window.stayed = true")  # gone if the page were reloaded
    expect(manager.locator(".mainnav [data-count]")).to_be_hidden()  # nothing for them yet

    comments.add(desk.service, actors["service_desk"], incident_id, COMMENT, "工程师已出发")
    comments.add(desk.service, actors["service_desk"], incident_id, WORK_NOTE, "@incident_manager 可能要升级")
    desk.service.add_facts(actors["incident_manager"], incident_id, {"note": "影响扩大", "designated_emergency": True})
    second = desk.register({"incident": {"title": "新的短信网关告警", "description": "失败率升高", "source": "hotline"},
                            "facts": {"type": "request"}, "on_spot": {"solved": False}})  # fmt: skip

    expect(requester.get_by_test_id("timeline")).to_contain_text("工程师已出发", timeout=15_000)
    expect(requester.locator("body")).not_to_contain_text("可能要升级")
    # the mention, and the emergency's coordination step
    expect(manager.locator(".mainnav [data-count]")).to_have_text("2", timeout=15_000)
    expect(manager.get_by_test_id("emergencies")).to_contain_text("计费接口超时", timeout=15_000)
    expect(leader.get_by_test_id("today")).to_contain_text("新的短信网关告警", timeout=15_000)
    for page in (requester, manager, leader):
        assert page.evaluate("window.stayed === true")
    assert second


def test_bulk_actions_from_the_inbox_and_the_list(open_as, live_server, desk, actors):
    from tests.driver import number, registration

    storm = [desk.register(registration()) for _ in range(3)]
    parent = storm[0]
    handler = open_as("service_desk")
    handler.goto(f"{live_server}/inbox")
    for child in storm:  # the parent too: it is refused, with the reason
        handler.get_by_label(f"选择 {number(child)}").check()
    bulk = handler.get_by_test_id("bulk")
    bulk.locator("summary").click()
    bulk.get_by_label("关联到重大事件").check()
    bulk.get_by_label("重大事件编号").fill(number(parent))
    bulk.get_by_role("button", name="应用到所选事件").click()
    expect(handler.get_by_test_id("summary-line")).to_have_text("3 个中已完成 2 个。")
    refused = handler.get_by_test_id("result").filter(has_text=number(parent))
    expect(refused).to_contain_text("事件不能关联到自身。")

    duplicates = [desk.register(registration()) for _ in range(2)]
    handler.goto(f"{live_server}/incidents/")
    for duplicate in duplicates:
        handler.get_by_label(f"选择 {number(duplicate)}").check()
    bulk = handler.get_by_test_id("bulk")
    bulk.locator("summary").click()
    bulk.get_by_label("作为重复事件关闭，原事件").check()
    bulk.get_by_label("原事件编号").fill(number(parent))
    bulk.get_by_role("button", name="应用到所选事件").click()
    expect(handler.get_by_test_id("summary-line")).to_have_text("2 个中已完成 2 个。")
    handler.get_by_role("link", name=number(duplicates[0])).click()
    expect(handler.get_by_test_id("summary")).to_contain_text("作为重复事件关闭")
    expect(handler.get_by_test_id("links")).to_contain_text(f"重复于 {number(parent)}")
