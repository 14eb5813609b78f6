"""Similar incidents' candidates on PostgreSQL, from the distinct titles and descriptions (docs/search.md).

The trigram probes read every document that shares trigrams with the typed text: a recurring title copied on
thousands of incidents made both the GIN probe and the GiST walk grow with its copies (11 and 23 ms for one
text at 100,000 incidents against 3.5 and 8 ms at 10,000). `similar_texts` holds each distinct title and
description once; the timer worker folds new documents in (`fold`). A request reads the candidate texts from
it, the documents not folded yet by their id, then each chosen text's newest incidents by an index of the
documents' md5 — only as many texts, best first, as the five hits need. The hits are those of scoring every
document: an incident beyond a text's newest five has five newer ones with the same score ahead of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.db import NEEDS_TRANSACTION, Database
from app.search.models import DESCRIPTION, TITLE, SimilarText

CANDIDATES = 500  # distinct texts read per request, nearest first
# documents before the newest folded one read again on each fold and request: a transaction that took its id
# earlier may commit later (an action's transaction lasts milliseconds; 200 documents are seconds of work)
SLACK = 200
CHUNK = 50  # texts whose newest incidents one statement reads, at most
KINDS = f"('{TITLE}', '{DESCRIPTION}')"  # constants, as in the indexes' predicates

# Every distinct text at least 0.1 similar to the typed one, from the GIN index, at most CANDIDATES + 1.
TEXTS_ALL = f"SELECT kind, body FROM similar_texts WHERE body % :typed LIMIT {CANDIDATES + 1}"
# The CANDIDATES nearest (`<->` is 1 - similarity) from the GiST index, when there are more.
TEXTS_NEAREST = f"SELECT kind, body FROM similar_texts WHERE body % :typed ORDER BY body <-> :typed LIMIT {CANDIDATES}"
# The titles and descriptions the worker has not folded in yet, by their id, written into the statement: the
# generic plan of a prepared statement read every match from the trigram index instead (330 ms at 100,000).
NOT_FOLDED = (
    "SELECT incident_id, kind, body FROM search_documents WHERE id > {after:d} AND kind IN {kinds} AND body % :typed"
)
FOLD = (
    "INSERT INTO similar_texts (kind, digest, body, newest_document_id) "
    "SELECT kind, md5(body), min(body), max(id) FROM search_documents "
    f"WHERE id > :after AND kind IN {KINDS} GROUP BY kind, md5(body) "
    "ON CONFLICT (kind, digest) DO UPDATE "
    "SET newest_document_id = greatest(similar_texts.newest_document_id, excluded.newest_document_id)"
)

Row = tuple[int, str, str]  # incident id, kind, text


def folded(session: Session) -> int:
    """The newest document folded in (0 before the first fold: then every document is read as not folded)."""
    return session.scalar(select(func.max(SimilarText.newest_document_id))) or 0


def fold(db: Database) -> None:
    """Fold the titles and descriptions written since the last fold into `similar_texts` (the timer worker,
    after every sweep; on SQLite, whose similar incidents come from FTS5, nothing)."""
    if not db.is_postgresql:
        return
    with db.transaction() as session:
        session.execute(text(FOLD), {"after": folded(session) - SLACK})


def candidates(session: Session, typed: str, score: Callable[[str, str], float], limit: int) -> list[Row]:
    """The documents whose incidents can be among the `limit` best by `score` (of a kind and text, 0 below
    the threshold; ties: the newest incident first)."""
    run = {NEEDS_TRANSACTION: True}
    session.execute(text("SET LOCAL pg_trgm.similarity_threshold = 0.1"), execution_options=run)
    after = folded(session) - SLACK
    recent = NOT_FOLDED.format(after=after, kinds=KINDS)
    rows: list[Row] = [tuple(row) for row in session.execute(text(recent), {"typed": typed})]
    # a sequential scan stops early for a common text and reads every text for a rare one, which the planner
    # cannot tell apart: the GIN index, always
    session.execute(text("SET LOCAL enable_seqscan = off"), execution_options=run)
    found = session.execute(text(TEXTS_ALL), {"typed": typed}).all()
    session.execute(text("SET LOCAL enable_seqscan = on"), execution_options=run)
    if len(found) > CANDIDATES:
        found = session.execute(text(TEXTS_NEAREST), {"typed": typed}).all()
    texts = sorted(((score(kind, body), kind, body) for kind, body in found), key=lambda item: -item[0])
    texts = [item for item in texts if item[0] > 0]
    read = 0
    while read < len(texts) and not _enough(rows, score, limit, texts[read][0]):
        end = min(read + limit, len(texts))
        while end < len(texts) and end - read < CHUNK and texts[end][0] == texts[end - 1][0]:
            end += 1  # texts of equal score together: the newest incidents among them decide
        chunk = texts[read:end]
        rows += _newest(session, [(kind, body) for _score, kind, body in chunk], limit)
        read += len(chunk)
    return rows


def _enough(rows: Sequence[Row], score: Callable[[str, str], float], limit: int, next_score: float) -> bool:
    """Whether `limit` incidents already score above every text not read yet."""
    best: dict[int, float] = {}
    for incident_id, kind, body in rows:
        best[incident_id] = max(best.get(incident_id, 0.0), score(kind, body))
    return sum(value > next_score for value in best.values()) >= limit


def _newest(session: Session, texts: Sequence[tuple[str, str]], limit: int) -> list[Row]:
    """Each text's newest `limit` incidents, from the index of the documents' md5 (migration 0035)."""
    parts = [
        f"(SELECT incident_id, kind, body FROM search_documents WHERE kind IN {KINDS} AND kind = :k{i} "
        f"AND md5(body) = md5(:b{i}) ORDER BY incident_id DESC LIMIT {limit})"
        for i in range(len(texts))
    ]
    values = {key: value for i, (kind, body) in enumerate(texts) for key, value in ((f"k{i}", kind), (f"b{i}", body))}
    return [tuple(row) for row in session.execute(text(" UNION ALL ".join(parts)), values)]
