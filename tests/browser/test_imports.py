"""The service desk imports tickets it already has: picks 导入工单 in the menu, uploads a CSV, reads the
preview with each bad row's line and reason, uploads the corrected file, imports, and finds the incidents."""

from __future__ import annotations

from playwright.sync_api import expect

HEADER = "事件标题,事件描述,事件来源,发生时间,涉及系统/模块,xxxIT平台工单号,事件类型,故障类别,是否影响核心业务\n"
GOOD = (
    "计费接口超时,营业厅反馈缴费后余额不更新,热线电话,2026-03-01 08:30,计费系统,IT-2026-101,故障,接口故障,否\n"
    "开通新套餐,客户申请开通5G套餐,热线电话,,CRM,IT-2026-102,请求,,\n"
)
BAD = ",标题漏填的工单,热线电话,,,IT-2026-103,故障,接口故障,否\n" + "重复的工单,描述,热线电话,,,IT-2026-101,请求,,\n"


def upload(page, text: str) -> None:
    page.set_input_files("#file", files=[{"name": "工单.csv", "mimeType": "text/csv", "buffer": text.encode()}])
    page.locator('form[action$="/imports/preview"] button.primary').click()
    expect(page.locator('[data-testid="preview"]')).to_be_visible()


def test_the_desk_previews_fixes_and_imports_a_csv(open_as, live_server):
    desk = open_as("service_desk")
    desk.locator(".mainnav").get_by_role("link", name="导入工单").click()
    expect(desk.locator("h1")).to_have_text("导入工单")
    expect(desk.locator('[data-testid="columns"]')).to_contain_text("xxxIT平台工单号")

    upload(desk, HEADER + GOOD + BAD)
    preview = desk.locator('[data-testid="preview"]')
    expect(preview.locator("tbody tr")).to_have_count(4)
    expect(preview.locator('tr[data-line="2"]')).to_contain_text("正确")
    title_missing = preview.locator('tr[data-line="4"]')
    expect(title_missing).to_have_class("has-error")
    expect(title_missing.locator('[data-testid="row-errors"]')).to_contain_text("事件标题")
    repeated = preview.locator('tr[data-line="5"] [data-testid="row-errors"]')
    expect(repeated).to_contain_text("第 2 行")  # the same platform ticket as line 2
    expect(preview).to_contain_text("所有行都正确后才能导入")
    expect(desk.locator('form[action$="/imports/run"]')).to_have_count(0)  # nothing to import yet

    upload(desk, HEADER + GOOD)  # the corrected file
    expect(desk.locator('[data-testid="row-errors"]')).to_have_count(0)
    desk.locator('form[action$="/imports/run"] button.primary').click()
    expect(desk.locator(".flash-success")).to_contain_text("2")
    imported = desk.locator('[data-testid="imported"] a')
    expect(imported).to_have_count(2)

    imported.first.click()
    expect(desk.locator("h1")).to_contain_text("计费接口超时")
    expect(desk.locator("body")).to_contain_text("IT-2026-101")
    desk.goto(f"{live_server}/incidents/?q=IT-2026-102")
    expect(desk.locator("table.list")).to_contain_text("开通新套餐")

    desk.goto(f"{live_server}/imports/")
    upload(desk, HEADER + GOOD)  # the same tickets again: refused row by row, nothing imported twice
    expect(desk.locator('[data-testid="row-errors"]')).to_have_count(2)
    expect(desk.locator('[data-testid="row-errors"]').first).to_contain_text("已导入")
