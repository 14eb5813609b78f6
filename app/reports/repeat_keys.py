"""Keeping the repeat analysis' keys (issue 14): each incident's normalized title and system, and for
each distinct title the titles similar enough to it — worked out when an incident is created or its
title or system changes (at commit, `app.reports.counters` calls `refresh`), so that the report
groups repeat incidents in SQL (`app.reports.repeat_groups`) without normalizing or comparing a
title. `rebuild` writes them all again (migration 0021, `flask reports rebuild`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import Incident
from app.reports.models import RepeatBigram, RepeatKey, RepeatSimilar, RepeatTitle
from app.reports.repeats import SIMILAR_SAME_SYSTEM, _bigrams, normalize


def system_key(system: str | None) -> str | None:
    """The system as the rule compares it: trimmed, None when blank (`repeats._system`)."""
    return (system or "").strip() or None


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def title_ids(session: Session, titles: Iterable[str]) -> dict[str, int | None]:
    """The id of each raw title's normalized text, adding new texts with their similar titles; None for
    a title empty after normalizing."""
    normalized = {title: normalize(title) for title in set(titles)}
    texts = {text for text in normalized.values() if text}
    known: dict[str, int] = {}
    if texts:
        query = select(RepeatTitle.text, RepeatTitle.id).where(RepeatTitle.digest.in_([_digest(t) for t in texts]))
        known = dict(session.execute(query).all())
    for text in sorted(texts - set(known)):
        known[text] = _add_title(session, text)
    return {title: known.get(text) for title, text in normalized.items()}


def _add_title(session: Session, text: str) -> int:
    """A new distinct title: its bigrams, and its similarity with every title sharing one of them."""
    grams, digest = _bigrams(text), _digest(text)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(RepeatTitle).values(digest=digest, text=text, bigrams=len(grams))
    title_id = session.execute(statement.on_conflict_do_nothing().returning(RepeatTitle.id)).scalar()
    if title_id is None:  # a concurrent transaction added it (and its bigrams and pairs) first
        return session.execute(select(RepeatTitle.id).where(RepeatTitle.digest == digest)).scalar_one()
    shared = (
        select(RepeatBigram.title_id, func.count(), RepeatTitle.bigrams)
        .join(RepeatTitle, RepeatTitle.id == RepeatBigram.title_id)
        .where(RepeatBigram.bigram.in_(sorted(grams)))
        .group_by(RepeatBigram.title_id, RepeatTitle.bigrams)
    )
    pairs = []
    for other, common, size in session.execute(shared):
        score = common / (len(grams) + size - common)  # Jaccard: shared ÷ all
        if score >= SIMILAR_SAME_SYSTEM:
            pairs += [
                {"title_id": title_id, "other_id": other, "score": score},
                {"title_id": other, "other_id": title_id, "score": score},
            ]
    if pairs:
        session.execute(insert(RepeatSimilar), pairs)
    session.execute(insert(RepeatBigram), [{"bigram": gram, "title_id": title_id} for gram in sorted(grams)])
    return title_id


def refresh(session: Session, ids: Iterable[int]) -> None:
    """The keys of these incidents, from their title and system now."""
    ids = sorted(set(ids))
    if not ids:
        return
    rows = session.execute(select(Incident.id, Incident.title, Incident.system).where(Incident.id.in_(ids))).all()
    titles = title_ids(session, [title or "" for _, title, _ in rows])
    session.execute(delete(RepeatKey).where(RepeatKey.incident_id.in_(ids)))
    values = [
        {"incident_id": incident_id, "title_id": titles[title or ""], "system": system_key(system)}
        for incident_id, title, system in rows
    ]
    if values:
        session.execute(insert(RepeatKey), values)


def rebuild(session: Session, batch: int = 5000) -> int:
    """Every incident's keys and every title again; the number of distinct titles."""
    for model in (RepeatKey, RepeatSimilar, RepeatBigram, RepeatTitle):
        session.execute(delete(model))
    ids = sorted(session.scalars(select(Incident.id)))
    for start in range(0, len(ids), batch):
        refresh(session, ids[start : start + batch])
    return session.scalar(select(func.count()).select_from(RepeatTitle)) or 0
