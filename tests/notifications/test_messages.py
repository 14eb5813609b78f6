"""Every kind has its template in every language, and each renders its subject, body and link."""

from __future__ import annotations

import pytest

from app.notifications import preferences
from app.notifications.messages import LOCALES, TEMPLATES, Site, kinds, render

PARAMS = {
    "name": "孙丽", "number": "INC000042", "title": "计费接口超时", "level_code": "orange", "system": "计费",
    "due": "2026-03-02T05:00:00+00:00", "path": "/incidents/42", "task": "一线尝试解决", "by": "王芳",
    "holders": "刘洋", "before": "yellow", "after": "orange", "rules": ["E3"],
    "reasons": ["E3 投诉至副总及以上：升一级"],
    "solution": "重启", "content": "故障通报正文", "note": "请协调", "breached": True, "text": "正在抢修",
    "recipient": "张伟", "channel": "sms", "error": "HTTP 503", "about": "resolved",
}  # fmt: skip


def test_every_kind_has_a_template_in_every_language():
    assert set(kinds()) == set(preferences.KINDS) | {"delivery_failed"}
    for locale in LOCALES:
        assert sorted(path.stem for path in (TEMPLATES / locale).glob("*.txt")) == kinds()


@pytest.mark.parametrize("kind", kinds())
def test_each_template_renders_with_its_link_in_both_languages(kind):
    site = Site(base_url="https://incidents.example.com/", timezone="Asia/Shanghai")
    zh, en = render(kind, "zh", PARAMS, site), render(kind, "en", PARAMS, site)
    for message in (zh, en):
        assert "INC000042" in message.subject
        assert message.body.rstrip().endswith("https://incidents.example.com/incidents/42")
    assert zh.subject != en.subject


def test_times_are_local_and_levels_named_in_the_readers_language():
    site = Site(timezone="Asia/Shanghai")
    assert "处理期限：2026-03-02 13:00" in render("task_arrived", "zh", PARAMS, site).body
    assert "Level: Orange" in render("task_arrived", "en", PARAMS, site).body
    assert "黄色 → 橙色" in render("escalated", "zh", PARAMS, site).subject
