"""The service desk imports existing tickets from a CSV: a preview with each bad row's line and reason,
then all rows registered in one go — or none."""

from __future__ import annotations

import html
import io
import re

from sqlalchemy import func, select

from app.models import Incident

HEADER = (
    "事件标题,事件描述,事件来源,发生时间,涉及系统/模块,xxxIT平台工单号,"
    "事件类型,故障类别,是否影响核心业务,当次故障累计投诉数\n"
)
GOOD = (
    HEADER
    + "计费接口超时,营业厅反馈缴费后余额不更新,运维支撑管理平台工单,2026-03-01 08:30,"
    + "计费系统,IT-001,故障,接口故障,否,12\n"
    + "开通新套餐,客户申请开通5G套餐,热线电话,,CRM,IT-002,请求,,,\n"
)


def upload(client, text: str, encoding: str = "utf-8"):
    return client.post("/imports/preview", {"file": (io.BytesIO(text.encode(encoding)), "tickets.csv")},
                       content_type="multipart/form-data")  # fmt: skip


def incidents(db) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Incident))


def test_preview_then_import_registers_every_row(as_role, db):
    desk = as_role("service_desk")
    page = desk.get("/imports/").get_data(as_text=True)
    assert "事件标题" in page and "xxxIT平台工单号" in page  # the columns are the form's fields
    preview = upload(desk, GOOD)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'data-line="2"' in text and 'data-line="3"' in text
    assert "row-errors" not in text and incidents(db) == 0  # a preview imports nothing
    csv_text = re.search(r'<textarea name="csv" hidden>(.*?)</textarea>', text, re.S).group(1)
    done = desk.post("/imports/run", {"csv": html.unescape(csv_text)})
    assert done.status_code == 200 and 'data-testid="imported"' in done.get_data(as_text=True)
    with db.read() as session:
        rows = {row.ops_ticket: row for row in session.scalars(select(Incident))}
    assert set(rows) == {"IT-001", "IT-002"}
    assert (rows["IT-001"].type, rows["IT-001"].source, rows["IT-001"].status) == ("fault", "web_ticket", "open")
    assert rows["IT-001"].occurred_at.isoformat().startswith("2026-03-01T00:30")  # 08:30 in Shanghai
    again = upload(desk, GOOD).get_data(as_text=True)  # the same tickets again: refused, row by row
    assert again.count("已导入：") == 2


def test_bad_rows_are_named_by_line_and_reason_and_nothing_is_imported(as_role, db):
    desk = as_role("service_desk")
    bad = GOOD + ",没有标题的工单,热线电话,,,IT-003,故障,,,\n" + "重复工单,描述,热线电话,,,IT-001,请求,,,\n"
    preview = upload(desk, bad)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 422 and "/imports/run" not in text
    assert re.search(r'data-line="4" class="has-error"', text) and re.search(r'data-line="5" class="has-error"', text)
    assert "第 2 行" in text  # the repeated ticket names the line it repeats
    assert desk.post("/imports/run", {"csv": bad}).status_code == 422  # posting it anyway imports nothing
    assert incidents(db) == 0


def test_file_problems_and_encodings(as_role, db):
    desk = as_role("service_desk")
    assert upload(desk, "").status_code == 422
    unknown = upload(desk, "标题,颜色\nx,y\n").get_data(as_text=True)
    assert "颜色" in unknown
    assert upload(desk, GOOD, "gb18030").status_code == 200  # Excel's CSV in a Chinese locale
    template = desk.get("/imports/template.csv")
    assert template.mimetype == "text/csv" and template.get_data(as_text=True).lstrip("\ufeff").startswith("事件标题")
    assert as_role("first_line").get("/imports/").status_code == 403
