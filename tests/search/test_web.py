"""The search page and the similar-incidents fragment, as their readers get them."""

from __future__ import annotations

from app.comments import service as comments
from app.comments.models import WORK_NOTE
from app.search import service as search_service
from tests.driver import number, registration


def test_the_search_page_lists_hits_with_the_match_marked(desk, service, actors, as_role):
    incident_id = desk.register(registration())  # 计费接口超时 / 营业厅反馈缴费后余额不更新
    comments.add(service, actors["first_line"], incident_id, WORK_NOTE, "怀疑<是>网关证书过期")
    reader = as_role("leadership")
    page = reader.get("/search/?q=证书过期").get_data(as_text=True)
    hits = page[page.index('data-testid="hits"') : page.index("</ol>")]
    assert "找到 1 个事件" in page and number(incident_id) in hits
    assert "工作备注:" in hits and "怀疑&lt;是&gt;网关<mark>证书过期</mark>" in hits
    assert "没有找到。" in reader.get("/search/?q=不存在").get_data(as_text=True)
    assert reader.get("/search/").status_code == 200


def test_the_requester_cannot_search(desk, as_role):
    assert as_role("requester").get("/search/?q=计费").status_code == 403
    assert as_role("requester").get("/search/similar?title=计费接口").status_code == 403


def test_similar_incidents_fragment_for_the_desk(desk, as_role):
    incident_id = desk.register(registration())
    fragment = as_role("service_desk").get("/search/similar?title=计费接口超时了&description=").get_data(as_text=True)
    assert number(incident_id) in fragment and "相似事件" in fragment and "<html" not in fragment
    nothing = as_role("service_desk").get("/search/similar?title=完全无关的内容").get_data(as_text=True)
    assert "暂无相似事件。" in nothing
    page = as_role("service_desk").get("/incidents/new").get_data(as_text=True)
    assert 'data-similar-url="/search/similar"' in page


def test_the_search_page_says_when_more_texts_match_than_it_reads(desk, as_role, monkeypatch):
    monkeypatch.setattr(search_service, "TEXTS", 2)
    first = desk.register(registration())  # 计费接口超时 is its title, as raised and as registered: two texts
    reader = as_role("leadership")
    page = reader.get("/search/?q=计费接口超时").get_data(as_text=True)
    assert "找到 1 个事件" in page and "更多结果" not in page
    newest = [desk.register(registration()) for _ in range(2)][-1]
    page = reader.get("/search/?q=计费接口超时").get_data(as_text=True)
    assert "匹配的文字多于一次搜索读取的 2 条。更多结果：请缩小条件" in page
    if desk.db.is_postgresql:  # the newest texts are read (SQLite reads the best by bm25)
        hits = page[page.index('data-testid="hits"') : page.index("</ol>")]
        assert number(newest) in hits and number(first) not in hits
