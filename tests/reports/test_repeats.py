"""Repeat-incident analysis over plain rows (pure)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from app.reports.repeats import (
    RepeatCandidate,
    bigrams,
    find_repeats,
    linked,
    normalize,
    similarity,
    suggested_title,
)

T = datetime(2026, 3, 2, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def incident(id_, title, days=0.0, type_="fault", category="interface", system=None, ticket=False):
    return RepeatCandidate(id_, title, type_, category, system, T + days * DAY, ticket)


def ids(groups):
    return [[item.id for item in group.incidents] for group in groups]


def test_titles_are_compared_by_character_bigrams_after_normalizing():
    assert normalize(" 计费接口，超时！ ") == "计费接口超时"
    assert normalize("ＣＲＭ  Login-Error") == "crmloginerror"  # full-width letters folded by NFKC
    assert bigrams("计费接口超时") == {"计费", "费接", "接口", "口超", "超时"}
    assert bigrams("卡") == {"卡"}
    assert bigrams("！？") == frozenset()
    assert similarity("计费接口超时", "【计费】接口超时。") == 1.0
    assert similarity("计费接口超时", "计费接口响应慢") == 3 / 8  # 计费 费接 接口 shared, 8 in all
    assert similarity("计费接口超时", "营业厅打印机卡纸") == 0.0
    assert similarity("", "计费接口超时") == 0.0


def test_links_need_the_same_type_the_window_and_similar_titles():
    a = incident(1, "计费接口超时")
    assert linked(a, incident(2, "计费接口超时", days=7))  # exactly 7 days apart: inside
    assert not linked(a, incident(2, "计费接口超时", days=7.01))
    assert not linked(a, incident(2, "计费接口超时", type_="complaint", category=None))
    assert not linked(a, incident(2, "计费接口超时", category="data"))  # other category, no common system
    assert not linked(a, incident(2, "计费接口超时", category="data", system="CRM"))  # the first names no system
    assert linked(incident(1, "计费接口超时", days=7), a)  # symmetric


def test_same_system_and_category_lower_the_threshold_to_0_3():
    a = incident(1, "计费接口超时", system="计费系统")
    looser = incident(2, "计费接口响应慢", system="计费系统 ")  # similarity 0.375; system compared trimmed
    assert linked(a, looser)
    assert not linked(incident(1, "计费接口超时"), incident(2, "计费接口响应慢"))  # no system: needs 0.5
    assert not linked(a, incident(2, "计费接口响应慢", system="计费系统", category="data"))
    # the same system alone (other category) still links titles at 0.5 or more
    assert linked(a, incident(2, "计费接口超时", system="计费系统", category="data"))


def test_single_linkage_groups_of_two_or_more_earliest_first():
    rows = [
        incident(5, "营业厅打印机卡纸", days=3),
        incident(1, "计费接口超时", days=0, ticket=True),
        incident(2, "计费接口超时", days=2),
        incident(3, "计费接口超时", days=12),  # 10 days after the second: alone
        incident(6, "营业厅打印机卡纸", days=4),
        incident(7, "话单采集失败", days=5, type_="request", category=None),
        incident(8, "话单采集失败", days=6, type_="request", category=None),
    ]
    groups = find_repeats(rows)
    assert ids(groups) == [[1, 2], [5, 6], [7, 8]]
    assert [group.has_problem_ticket for group in groups] == [True, False, False]
    assert groups[0].first_at == T and groups[0].last_at == T + 2 * DAY
    # a chain: each within 7 days of the next, 12 days end to end
    chain = [incident(1, "计费接口超时"), incident(2, "计费接口超时", days=6), incident(3, "计费接口超时", days=12)]
    assert ids(find_repeats(chain)) == [[1, 2, 3]]
    assert ids(find_repeats(chain, window=timedelta(days=5))) == []
    assert find_repeats([]) == []


def test_suggested_problem_ticket_title():
    group = [incident(2, "计费接口超时 ", days=1), incident(1, "计费接口超时了"), incident(3, "计费接口超时", days=2)]
    assert suggested_title(group) == "重复事件：计费接口超时（3 起，03-02 至 03-04）"
    same_day = [incident(1, "A"), incident(2, "B", days=0.1)]
    assert suggested_title(same_day) == "重复事件：A（2 起，03-02）"  # a tie goes to the earliest title
    long = suggested_title([incident(1, "长" * 300), incident(2, "长" * 300)])
    assert len(long) == 200 and long.endswith("（2 起，03-02）")


def brute_force(rows, window):
    """Single linkage by comparing every pair with `linked`: the definition, slowly."""
    rows = sorted(rows, key=lambda c: (c.registered_at, c.id))
    component = {row.id: {row.id} for row in rows}
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if linked(a, b, window) and component[a.id] is not component[b.id]:
                merged = component[a.id] | component[b.id]
                for member in merged:
                    component[member] = merged
    groups = {frozenset(group) for group in component.values() if len(group) >= 2}
    return sorted(sorted(group) for group in groups)


def test_the_fast_sweep_finds_exactly_the_single_linkage_groups():
    rng = random.Random(20260302)
    titles = [
        "计费接口超时",
        "计费接口响应慢",
        "计费接口超时了",
        "营业厅打印机卡纸",
        "打印机卡纸",
        "",
        "！",
        "话单采集失败",
    ]
    for _ in range(40):
        rows = [
            incident(
                n,
                rng.choice(titles),
                days=rng.choice([0, 7, 14]) + rng.randrange(0, 20) / 4,
                type_=rng.choice(["fault", "fault", "request"]),
                category=rng.choice(["interface", "data", None]),
                system=rng.choice([None, "计费系统", " 计费系统", "CRM"]),
            )
            for n in range(1, rng.randrange(2, 40))
        ]
        window = timedelta(days=rng.choice([1, 3, 7]))
        assert sorted(sorted(c.id for c in group.incidents) for group in find_repeats(rows, window)) == brute_force(
            rows, window
        )
