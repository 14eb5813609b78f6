"""Repeat-incident analysis (对重复事件进行分析, activity 4.7): groups of similar incidents close in time.

Two incidents are linked when they are of the same type, were registered at most `window` apart
(default 7 days) and their titles are similar:
- same fault category (or both without one) and title similarity ≥ 0.5, or
- same system (named, identical after trimming) and title similarity ≥ 0.5, or
- same system, same fault category and title similarity ≥ 0.3.
Title similarity is the Jaccard index of the character bigrams of the normalized titles (NFKC,
lower case, punctuation, symbols and white space removed; a one-character title is its own
bigram). Groups are the connected components of the links (single linkage), so a chain of
incidents each within the window of the next forms one group even when it spans longer.
Only groups of two or more are reported, earliest first.

`find_repeats` never compares every pair: titles are scored only against titles sharing a bigram
with them, and incidents are linked through runs (a title's incidents each within the window of
the next), so its cost grows with distinct titles and runs rather than with incidents squared.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.models import Incident, ProblemTicket
from app.reports.filters import SHANGHAI, ReportFilter, incident_number

WINDOW = timedelta(days=7)
SIMILAR = 0.5
SIMILAR_SAME_SYSTEM = 0.3
TITLE_LIMIT = 200  # ProblemTicket.title


@dataclass(frozen=True)
class RepeatCandidate:
    id: int
    title: str
    type: str | None
    fault_category: str | None
    system: str | None
    registered_at: datetime
    has_problem_ticket: bool = False

    @property
    def number(self) -> str:
        return incident_number(self.id)


class GroupSpan:
    """When a group's first and last incidents were registered (`incidents` in registration order)."""

    incidents: tuple[RepeatCandidate, ...]

    @property
    def first_at(self) -> datetime:
        return self.incidents[0].registered_at

    @property
    def last_at(self) -> datetime:
        return self.incidents[-1].registered_at


@dataclass(frozen=True)
class RepeatGroup(GroupSpan):
    incidents: tuple[RepeatCandidate, ...]  # registration order
    has_problem_ticket: bool  # any of them already has a problem ticket
    suggested_title: str  # for a problem ticket (问题单)

    @property
    def size(self) -> int:
        return len(self.incidents)

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(incident.id for incident in self.incidents)


@dataclass(frozen=True)
class RepeatRow:
    """One incident of one group, for tables and CSV."""

    group: int  # 1-based, in report order
    group_size: int
    suggested_title: str
    group_has_problem_ticket: bool
    incident_id: int
    number: str
    title: str
    registered_at: datetime
    has_problem_ticket: bool


def normalize(title: str) -> str:
    """NFKC, lower case, without punctuation, symbols, white space and control characters."""
    text = unicodedata.normalize("NFKC", title).lower()
    return "".join(char for char in text if unicodedata.category(char)[0] not in "PSZC")


def bigrams(title: str) -> frozenset[str]:
    return _bigrams(normalize(title))


def _bigrams(text: str) -> frozenset[str]:
    if len(text) < 2:
        return frozenset({text}) if text else frozenset()
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


def similarity(a: str, b: str) -> float:
    """Jaccard index of the titles' character bigrams (0 when either title is empty)."""
    return jaccard(bigrams(a), bigrams(b))


def _system(candidate: RepeatCandidate) -> str | None:
    return (candidate.system or "").strip() or None


def linked(a: RepeatCandidate, b: RepeatCandidate, window: timedelta = WINDOW) -> bool:
    """Whether two incidents are repeats of each other (the rule in the module docstring)."""
    if a.type != b.type or abs(a.registered_at - b.registered_at) > window:
        return False
    score = similarity(a.title, b.title)
    same_category = a.fault_category == b.fault_category
    same_system = _system(a) is not None and _system(a) == _system(b)
    if same_system and same_category:
        return score >= SIMILAR_SAME_SYSTEM
    return (same_category or same_system) and score >= SIMILAR


def suggested_title(incidents: Iterable[RepeatCandidate], tz: tzinfo = SHANGHAI) -> str:
    """「重复事件：<most frequent title>（N 起，MM-DD 至 MM-DD）」, cut to the problem-ticket limit."""
    incidents = sorted(incidents, key=lambda c: (c.registered_at, c.id))
    counts = Counter(c.title.strip() for c in incidents)  # first-seen order: ties go to the earliest
    title = max(counts, key=counts.__getitem__)
    first, last = (incidents[i].registered_at.astimezone(tz).strftime("%m-%d") for i in (0, -1))
    span = first if first == last else f"{first} 至 {last}"
    suffix = f"（{len(incidents)} 起，{span}）"
    return "重复事件：" + title[: TITLE_LIMIT - len("重复事件：") - len(suffix)] + suffix


def _similar_titles(grams: list[frozenset[str]], threshold: float) -> list[list[tuple[int, float]]]:
    """Per title (by index): the later titles (higher index) whose similarity with it is ≥
    `threshold`, with the score; only titles sharing a bigram are scored, each pair once."""
    holders: dict[str, list[int]] = {}
    for title, bigram_set in enumerate(grams):
        for bigram in bigram_set:
            holders.setdefault(bigram, []).append(title)
    similar: list[list[tuple[int, float]]] = []
    for title, bigram_set in enumerate(grams):
        candidates = {other for bigram in bigram_set for other in holders[bigram] if other > title}
        scores = ((other, jaccard(bigram_set, grams[other])) for other in sorted(candidates))
        similar.append([(other, score) for other, score in scores if score >= threshold])
    return similar


def _link_runs(first: list, second: list, limit: int, union) -> None:
    """Link every run of `first` with the runs of `second` within `limit` of it (both in time order,
    each list's runs disjoint: a two-pointer sweep)."""
    low = 0
    for start, end, incident in first:
        while low < len(second) and second[low][1] < start - limit:
            low += 1
        k = low
        while k < len(second) and second[k][0] <= end + limit:
            union(incident, second[k][2])
            k += 1


def find_repeats(
    candidates: Iterable[RepeatCandidate], window: timedelta = WINDOW, tz: tzinfo = SHANGHAI
) -> list[RepeatGroup]:
    """Groups (≥ 2) of linked incidents, earliest group first."""
    items = sorted(candidates, key=lambda c: (c.registered_at, c.id))
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Scores depend on the normalized titles only. Blocking: two titles can reach a threshold only
    # when they share a bigram, so each distinct title is scored against the titles sharing one with
    # it (an inverted index of bigrams), never against every other title.
    title_ids: dict[str, int] = {}
    raw_ids: dict[str, int] = {}  # each distinct title is normalized once
    for item in items:
        if item.title not in raw_ids:
            raw_ids[item.title] = title_ids.setdefault(normalize(item.title), len(title_ids))
    title_of = [raw_ids[item.title] for item in items]
    grams = [_bigrams(text) for text in title_ids]
    similar = _similar_titles(grams, SIMILAR_SAME_SYSTEM)

    # Partitions in which whether two incidents link depends on their titles and times only.
    partitions: dict[tuple, list[int]] = {}
    for i, item in enumerate(items):
        partitions.setdefault((SIMILAR, "category", item.type, item.fault_category), []).append(i)
        system = _system(item)
        if system is not None:
            partitions.setdefault((SIMILAR, "system", item.type, system), []).append(i)
            partitions.setdefault((SIMILAR_SAME_SYSTEM, item.type, item.fault_category, system), []).append(i)
    micro = timedelta(microseconds=1)  # exact integer times: the window edge is inclusive
    at = [(item.registered_at - items[0].registered_at) // micro for item in items]
    limit = window // micro

    def union(i: int, j: int) -> None:
        if root(i) != root(j):
            parent[root(j)] = root(i)

    for (threshold, *_), members in partitions.items():
        # Runs: the incidents of one (non-empty) title, each within the window of the next, are all
        # linked (similarity 1). Two runs of similar titles are linked exactly when they come within
        # the window of each other (a run is an unbroken chain: any instant inside it is within the
        # window of one of its incidents). So only runs are compared, never incidents: the cost grows
        # with the number of runs (at most one per window and title), not with the incidents.
        runs: dict[int, list[tuple[int, int, int]]] = {}  # title → (start, end, an incident), in time order
        for i in members:
            if not grams[title_of[i]]:
                continue  # an empty title is similar to nothing
            own = runs.setdefault(title_of[i], [])
            if own and at[i] - own[-1][1] <= limit:
                union(own[-1][2], i)
                own[-1] = (own[-1][0], at[i], own[-1][2])
            else:
                own.append((at[i], at[i], i))
        for title, own in runs.items():
            for other, score in similar[title]:
                if score >= threshold and other in runs:
                    _link_runs(own, runs[other], limit, union)
    components: dict[int, list[RepeatCandidate]] = {}
    for i, item in enumerate(items):
        components.setdefault(root(i), []).append(item)
    groups = [
        RepeatGroup(tuple(group), any(c.has_problem_ticket for c in group), suggested_title(group, tz))
        for group in components.values()
        if len(group) >= 2
    ]
    return sorted(groups, key=lambda group: (group.first_at, group.incidents[0].id))


def repeat_rows(groups: Iterable[RepeatGroup]) -> list[RepeatRow]:
    """The groups flattened: one row per incident."""
    return [
        RepeatRow(
            number,
            len(group.incidents),
            group.suggested_title,
            group.has_problem_ticket,
            incident.id,
            incident.number,
            incident.title,
            incident.registered_at,
            incident.has_problem_ticket,
        )
        for number, group in enumerate(groups, start=1)
        for incident in group.incidents
    ]


def candidates(flt: ReportFilter) -> list:
    """The incidents a repeat analysis looks at: registered in the period, of the filter's type and level."""
    return [
        Incident.registered_at.is_not(None),
        Incident.registered_at >= flt.start,
        Incident.registered_at < flt.end,
        *flt.incident_criteria(),
    ]


def repeats(
    session: Session, flt: ReportFilter, window: timedelta = WINDOW, tz: tzinfo = SHANGHAI
) -> list[RepeatGroup]:
    """Repeat groups among the incidents registered in the period (filter's type and current level;
    the group filter does not apply: repeats are about the incidents, not who handled them)."""
    has_ticket = exists().where(ProblemTicket.incident_id == Incident.id)
    query = select(
        Incident.id, Incident.title, Incident.type, Incident.fault_category, Incident.system, Incident.registered_at,
        has_ticket,
    ).where(*candidates(flt))  # fmt: skip
    return find_repeats([RepeatCandidate(*row) for row in session.execute(query)], window, tz)
