"""Searching: terms (split on spaces) that must all occur, found through the trigram index, ranked
(bm25 on SQLite, trigram word similarity on PostgreSQL, a title match first), one hit per incident
with the best-matching text cut around the match and the terms marked.

Trigram indexes find terms of three characters or more. Chinese words are often two characters
("计费"): such a term is matched by a plain LIKE over the documents (a scan, fine at this size) —
together with the longer terms, which the index narrows first (docs/search.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session, raiseload

from app.models import Incident
from app.search import similar as similar_texts
from app.search.models import DESCRIPTION, TITLE

MAX_TERMS = 8
MAX_TERM = 100
# texts read per search: on PostgreSQL the newest that match, ranked; on SQLite the best by bm25. One
# more is read to tell the page that more match (docs/search.md)
TEXTS = 250
SNIPPET = 60  # characters shown each side of the first match
TITLE_BOOST = 2.0


@dataclass(frozen=True)
class Hit:
    incident: Incident
    kind: str  # which text matched best (title, description, notes, comment, work_note, solution)
    snippet: Markup  # the text around the match, escaped, the terms in <mark>
    score: float


def terms_of(query: str) -> list[str]:
    seen: list[str] = []
    for term in (query or "").split():
        term = term[:MAX_TERM]
        if term and term.lower() not in (t.lower() for t in seen):
            seen.append(term)
    return seen[:MAX_TERMS]


@dataclass(frozen=True)
class Found:
    hits: list[Hit]  # the page's
    total: int  # incidents among the texts read
    more: bool  # more than TEXTS texts match: the rest are not read


def search(session: Session, query: str, limit: int = 50, offset: int = 0) -> list[Hit]:
    return search_page(session, query, limit, offset).hits


def search_page(session: Session, query: str, limit: int, offset: int) -> Found:
    """The hits from `offset` on, how many incidents match among the TEXTS texts read, and whether more match."""
    terms = terms_of(query)
    if not terms:
        return Found([], 0, False)
    if session.get_bind().dialect.name == "postgresql":
        rows = _postgresql(session, terms)
    else:
        rows = _sqlite(session, terms)
    ranked = _ranked(rows[:TEXTS])
    return Found(_hits(session, ranked[offset : offset + limit], terms), len(ranked), len(rows) > TEXTS)


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _sqlite(session: Session, terms: list[str]) -> list[tuple]:
    long = [term for term in terms if len(term) >= 3]
    params = {f"t{i}": _like(term) for i, term in enumerate(terms)}
    likes = " AND ".join(f"d.body LIKE :t{i} ESCAPE '\\'" for i in range(len(terms)))
    if long:  # the index narrows; LIKE then checks every term (short ones included)
        params["match"] = " ".join('"' + term.replace('"', '""') + '"' for term in long)
        sql = (
            "SELECT d.incident_id, d.kind, d.body, -bm25(search_fts) AS score FROM search_fts "
            "JOIN search_documents d ON d.id = search_fts.rowid "
            f"WHERE search_fts MATCH :match AND {likes} ORDER BY bm25(search_fts) LIMIT {TEXTS + 1}"
        )
    else:
        sql = f"SELECT d.incident_id, d.kind, d.body, 0.0 AS score FROM search_documents d WHERE {likes} " \
              f"ORDER BY d.id DESC LIMIT {TEXTS + 1}"  # fmt: skip
    return list(session.execute(text(sql), params))


def _postgresql(session: Session, terms: list[str]) -> list[tuple]:
    params = {f"w{i}": term for i, term in enumerate(terms)}
    # the patterns are written into the statement: once psycopg prepares a statement run often, PostgreSQL may
    # plan it for any pattern, and that generic plan reads every trigram match from the index (0.6 s at 100,000
    # incidents for two common words) where the plan for the actual words walks the newest ids (10 ms)
    patterns = [bindparam(f"t{i}", _like(term), literal_execute=True) for i, term in enumerate(terms)]
    likes = " AND ".join(f"d.body ILIKE :t{i}" for i in range(len(terms)))
    score = " + ".join(f"word_similarity(:w{i}, d.body)" for i in range(len(terms)))
    # ranked among the newest TEXTS matching texts (newest first, so that the one more read is the oldest):
    # ranking every match (tens of thousands for a common word at 100,000 incidents) took seconds, and
    # ranking the newest 1,000 grew with the matches up to them (docs/search.md); the newest matches are
    # found through the index, or walking the ids backwards while matches are dense. The score is computed
    # outside the cut: in the same SELECT PostgreSQL scores every match before it sorts
    sql = (
        f"SELECT d.incident_id, d.kind, d.body, ({score}) AS score FROM (SELECT d.id, d.incident_id, d.kind, "
        f"d.body FROM search_documents d WHERE {likes} ORDER BY d.id DESC LIMIT {TEXTS + 1}) d ORDER BY d.id DESC"
    )
    return list(session.execute(text(sql).bindparams(*patterns), params))


def _ranked(rows: Sequence[tuple]) -> list[tuple[int, tuple[float, str, str]]]:
    """One (incident id, (score, kind, text)) per incident, its best text, best incident first."""
    best: dict[int, tuple[float, str, str]] = {}
    for incident_id, kind, body, score in rows:
        score = float(score or 0) * (TITLE_BOOST if kind == TITLE else 1.0)
        if incident_id not in best or score > best[incident_id][0]:
            best[incident_id] = (score, kind, body)
    return sorted(best.items(), key=lambda item: (-item[1][0], -item[0]))


def _hits(session: Session, ranked: Sequence[tuple[int, tuple[float, str, str]]], terms: list[str]) -> list[Hit]:
    """The hits of these ranked incidents (list columns only, as every list)."""
    ids = [incident_id for incident_id, _ in ranked]
    query = select(Incident).where(Incident.id.in_(ids)).options(raiseload(Incident.process_version))
    incidents = {row.id: row for row in session.scalars(query)} if ids else {}
    return [
        Hit(incidents[incident_id], kind, snippet(body, terms), score)
        for incident_id, (score, kind, body) in ranked
        if incident_id in incidents
    ]


def snippet(body: str, terms: Sequence[str], width: int = SNIPPET) -> Markup:
    """The text around the first match, escaped, every term marked."""
    pattern = re.compile("|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    found = pattern.search(body)
    start = max(0, found.start() - width) if found else 0
    end = min(len(body), (found.end() if found else 0) + width)
    window = body[start:end]
    parts, position = [], 0
    for match in pattern.finditer(window):
        parts.append(escape(window[position : match.start()]))
        parts.append(Markup("<mark>%s</mark>") % window[match.start() : match.end()])
        position = match.end()
    parts.append(escape(window[position:]))
    return Markup("…" if start else "") + Markup("").join(parts) + Markup("…" if end < len(body) else "")


# ------------------------------------------------------------------ similar incidents


def trigrams(value: str) -> set[str]:
    compact = re.sub(r"\s+", " ", value.lower()).strip()
    return {compact[i : i + 3] for i in range(len(compact) - 2) if not compact[i : i + 3].isspace()}


def similar(session: Session, typed: str, limit: int = 5, threshold: float = 0.25) -> list[Hit]:
    """Incidents whose title or description shares the most trigrams with what was typed: the share of
    the typed text's trigrams found in the incident's text, from candidates the index offers."""
    typed = (typed or "").strip()[:400]
    wanted = trigrams(typed)
    if len(wanted) < 2:
        return []
    if session.get_bind().dialect.name == "postgresql":

        def boosted(kind: str, body: str) -> float:  # as _ranked weighs a text; 0 below the threshold
            share = len(wanted & trigrams(body)) / len(wanted)
            return share * (TITLE_BOOST if kind == TITLE else 1.0) if share >= threshold else 0.0

        rows = similar_texts.candidates(session, typed, boosted, limit)
    else:
        match = " OR ".join('"' + gram.replace('"', '""') + '"' for gram in sorted(wanted)[:200])
        sql = (
            "SELECT d.incident_id, d.kind, d.body FROM search_fts JOIN search_documents d ON d.id = search_fts.rowid "
            f"WHERE search_fts MATCH :match AND d.kind IN (:title, :description) ORDER BY bm25(search_fts) "
            f"LIMIT {similar_texts.CANDIDATES}"  # as many as PostgreSQL's similar texts
        )
        rows = session.execute(text(sql), {"match": match, "title": TITLE, "description": DESCRIPTION})
    scored = [(incident_id, kind, body, len(wanted & trigrams(body)) / len(wanted)) for incident_id, kind, body in rows]
    kept = [(incident_id, kind, body, score) for incident_id, kind, body, score in scored if score >= threshold]
    return _hits(session, _ranked(kept)[:limit], [])
