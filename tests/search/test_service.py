"""Search over what was written on incidents, on both databases: Chinese without spaces, every
kind of text, all terms required, ranked, the match marked; and similar incidents for the desk."""

from __future__ import annotations

from sqlalchemy import select

from app.comments import service as comments
from app.comments.models import COMMENT, WORK_NOTE
from app.search import service as search
from app.search import similar as similar_texts
from app.search.models import SearchDocument, SimilarText
from tests.driver import resolved


def incident(desk, title: str, description: str) -> int:
    return desk.register({
        "incident": {"title": title, "description": description, "source": "hotline"},
        "facts": {"type": "request"}, "on_spot": {"solved": False},
    })  # fmt: skip


def found(db, query: str) -> list[tuple[int, str]]:
    with db.read() as session:
        return [(hit.incident.id, hit.kind) for hit in search.search(session, query)]


def test_every_kind_of_text_is_found_in_chinese(desk, service, actors, db):
    a = incident(desk, "计费接口超时", "营业厅反馈缴费后余额不更新")
    b = incident(desk, "短信网关告警", "短信发送失败率升高")
    comments.add(service, actors["first_line"], b, WORK_NOTE, "怀疑是网关证书过期")
    comments.add(service, actors["first_line"], b, COMMENT, "请提供失败的手机号码")
    desk.complete("service_desk", a, "initial_support", resolved(text="重启了余额同步进程"))
    assert found(db, "接口超时") == [(a, "title")]
    assert found(db, "缴费后余额") == [(a, "description")]
    assert found(db, "证书过期") == [(b, "work_note")]
    assert found(db, "手机号码") == [(b, "comment")]
    assert found(db, "余额同步进程") == [(a, "solution")]
    assert found(db, "已诊断") == [(a, "notes")]  # the step's handling notes (tests.driver.resolved)
    assert found(db, "计费") == [(a, "title")]  # two characters: below the trigram, still found
    assert found(db, "发送 失败率") == [(b, "description")]  # every term, in one text
    assert found(db, "网关 缴费") == []
    assert found(db, "不存在的词") == [] and found(db, "   ") == []


def test_ranked_with_the_title_first_and_the_match_marked(desk, db):
    in_description = incident(desk, "网络故障", "多个营业厅反馈计费接口超时")
    in_title = incident(desk, "计费接口超时", "原因不明")
    with db.read() as session:
        hits = search.search(session, "计费接口")
    assert [hit.incident.id for hit in hits] == [in_title, in_description]
    assert str(hits[0].snippet) == "<mark>计费接口</mark>超时"
    assert str(hits[1].snippet) == "多个营业厅反馈<mark>计费接口</mark>超时"


def test_snippets_are_escaped_and_cut_around_the_match():
    body = "<b>前面</b>" + "很长的内容" * 30 + "关键字" + "后面" * 50
    text = str(search.snippet(body, ["关键字"], width=10))
    assert text.startswith("…") and text.endswith("…") and "<mark>关键字</mark>" in text and "<b>" not in text
    assert str(search.snippet("a <script> B", ["b"])) == "a &lt;script&gt; <mark>B</mark>"


def test_like_characters_are_taken_literally(desk, db):
    percent = incident(desk, "成功率 100% 下降", "无")
    incident(desk, "成功率下降", "无")
    assert found(db, "100%") == [(percent, "title")]
    assert found(db, "%") == [(percent, "title")]


def test_quotes_and_backslashes_are_searched_as_text(desk, db):
    """On PostgreSQL the patterns are written into the statement (app/search/service.py): they stay data."""
    quoted = incident(desk, "路径 C:\\bss\\log 里有 O'Brien 的记录", "无")
    incident(desk, "路径 C:bsslog 里有 OBrien 的记录", "无")
    assert found(db, "C:\\bss\\log") == [(quoted, "title")]
    assert found(db, "O'Brien") == [(quoted, "title")]
    assert found(db, "O'Brien C:\\bss") == [(quoted, "title")]
    assert found(db, "'; DROP TABLE incidents; --") == []


def test_similar_incidents_as_the_desk_types(desk, db):
    same = incident(desk, "营业厅缴费后余额不更新", "东城区三个营业厅")
    near = incident(desk, "缴费后余额显示错误", "西城区")
    incident(desk, "短信网关告警", "短信发送失败率升高")
    with db.read() as session:
        hits = search.similar(session, "营业厅缴费后余额没有更新")
        assert search.similar(session, "余") == []
    assert [hit.incident.id for hit in hits][:2] == [same, near]
    assert hits[0].score > hits[1].score >= 0.25


def _every_text_scored(db, typed: str) -> list[tuple[int, float]]:
    """The five best incidents by scoring every title and description: what the candidates must give."""
    wanted = search.trigrams(typed)
    with db.read() as session:
        docs = session.scalars(select(SearchDocument).where(SearchDocument.kind.in_(["title", "description"])))
        scored = [(d.incident_id, d.kind, d.body, len(wanted & search.trigrams(d.body)) / len(wanted)) for d in docs]
    return [(incident_id, best[0]) for incident_id, best in search._ranked([r for r in scored if r[3] >= 0.25])[:5]]


def _similar(db, typed: str) -> list[tuple[int, float]]:
    with db.read() as session:
        return [(hit.incident.id, hit.score) for hit in search.similar(session, typed)]


TYPED = ("营业厅缴费后余额没有更新", "余额不更新", "短信网关", "完全无关的内容")


def test_similar_incidents_are_those_of_scoring_every_text_folded_or_not(desk, db):
    """On PostgreSQL the candidates are the distinct titles and descriptions the timer worker folded in, each
    one's newest incidents, and the documents written since: the same five hits as scoring every document,
    before the first fold, after it, and with incidents raised after it (copies of one title among them)."""
    for n in range(7):
        incident(desk, "余额不更新", f"缴费后余额不更新 {n}")  # one title on seven incidents: the newest five count
    incident(desk, "营业厅缴费后余额不更新", "东城区三个营业厅")
    incident(desk, "短信网关告警", "短信发送失败率升高")
    for typed in TYPED:
        assert _similar(db, typed) == _every_text_scored(db, typed), typed
    similar_texts.fold(db)
    if db.is_postgresql:
        with db.read() as session:
            texts = session.scalars(select(SimilarText.body).where(SimilarText.kind == "title")).all()
        assert sorted(texts) == sorted(["余额不更新", "短信网关告警", "营业厅缴费后余额不更新"])  # once each
    for typed in TYPED:
        assert _similar(db, typed) == _every_text_scored(db, typed), typed
    newer = [incident(desk, "余额不更新", "西城区") for _ in range(2)]  # not folded yet: read by id
    assert [incident_id for incident_id, _score in _similar(db, "余额不更新")][:2] == newer[::-1]
    for typed in TYPED:
        assert _similar(db, typed) == _every_text_scored(db, typed), typed
    similar_texts.fold(db)
    similar_texts.fold(db)  # again: nothing changes
    for typed in TYPED:
        assert _similar(db, typed) == _every_text_scored(db, typed), typed
