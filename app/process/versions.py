"""Published process versions: publish a checked diagram with its forms; find and parse versions.

Only the incident process is published (app.process.contract.PROCESS_ID: a diagram with another id is
refused), so the versions are numbered per process id and `latest` is always the incident process's.
Publishing is honest: a diagram and forms that say what the latest version says, however differently
they are written (bpmn-js reformats a file it saves unchanged), publish nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit
from app.engine.model import ProcessModel
from app.forms import read_form_files
from app.models import ProcessVersion, utcnow
from app.process import diff, validation
from app.process.contract import PROCESS_ID
from app.process.problems import ModelError

BUNDLED_DIAGRAM = Path(__file__).resolve().parents[2] / "processes" / "incident_management.bpmn"


def content_hash(bpmn_xml: str, forms: Mapping[str, str]) -> str:
    payload = json.dumps({"bpmn": bpmn_xml, "forms": dict(sorted(forms.items()))}, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def referenced_forms(parsed: ProcessModel, forms: Mapping[str, str]) -> dict[str, str]:
    names = {name for info in parsed.user_tasks.values() for name in (info.schema_file, info.ui_file)}
    return {name: forms[name] for name in sorted(names)}


def latest(session: Session, process_id: str = PROCESS_ID) -> ProcessVersion | None:
    """The newest version of the process (by default the incident process: what new incidents start)."""
    query = select(ProcessVersion).where(ProcessVersion.process_id == process_id)
    return session.scalars(query.order_by(ProcessVersion.id.desc()).limit(1)).first()


def same_content(version: ProcessVersion, bpmn_xml: str, forms: Mapping[str, str]) -> bool:
    """Whether publishing this diagram and forms would say nothing new after `version`."""
    if version.content_hash == content_hash(bpmn_xml, forms):
        return True
    published = json.loads(version.forms_json)
    if published.keys() != forms.keys():
        return False
    if any(normalized_form(published[name]) != normalized_form(forms[name]) for name in forms):
        return False
    return diff.equivalent(version.bpmn_xml, bpmn_xml)


def normalized_form(text: str) -> object:
    """A form file as what it says (parsed JSON), so that re-indenting it changes nothing."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def publish(
    session: Session, bpmn_xml: str, forms: Mapping[str, str], actor: audit.Actor, comment: str = ""
) -> tuple[ProcessVersion, bool]:
    """Check and publish; returns (version, created). An unchanged diagram is not published twice.

    Raises ModelError listing every problem when the diagram or its forms are not acceptable.
    """
    parsed = validation.load_for_publication(bpmn_xml, forms)
    kept_forms = referenced_forms(parsed, forms)
    digest = content_hash(bpmn_xml, kept_forms)
    current = latest(session, parsed.process_id)
    if current is not None and same_content(current, bpmn_xml, kept_forms):
        return current, False
    number = session.scalar(
        select(func.coalesce(func.max(ProcessVersion.version), 0)).where(ProcessVersion.process_id == parsed.process_id)
    )
    version = ProcessVersion(
        process_id=parsed.process_id,
        version=number + 1,
        bpmn_xml=bpmn_xml,
        forms_json=json.dumps(kept_forms, ensure_ascii=False),
        content_hash=digest,
        comment=comment,
        published_by=actor.name,
        published_at=utcnow(),
    )
    session.add(version)
    session.flush()
    audit.append(
        session,
        kind="version_published",
        actor=actor,
        at=version.published_at,
        data={"process_id": version.process_id, "version": version.version, "hash": digest, "comment": comment},
    )
    return version, True


def publish_bundled_if_none(session: Session, actor: audit.Actor) -> ProcessVersion:
    """First start: the diagram shipped in processes/ becomes version 1."""
    current = latest(session)
    if current is not None:
        return current
    version, _ = publish(session, BUNDLED_DIAGRAM.read_text(encoding="utf-8"), read_form_files(), actor, "初始版本")
    return version


class ModelCache:
    """Parsed models by version id: a version never changes once published, so parse it once."""

    def __init__(self) -> None:
        self._models: dict[int, ProcessModel] = {}

    def get(self, version: ProcessVersion) -> ProcessModel:
        parsed = self._models.get(version.id)
        if parsed is None:
            parsed = validation.load(version.bpmn_xml, json.loads(version.forms_json))
            self._models[version.id] = parsed
        return parsed

    def get_by_id(self, session: Session, version_id: int) -> ProcessModel:
        """The parsed model of a version; its row (diagram and forms, ~120 KB) is read only the
        first time, so an action on an incident never reads it again."""
        parsed = self._models.get(version_id)
        return parsed if parsed is not None else self.get(session.get_one(ProcessVersion, version_id))


__all__ = ["ModelCache", "ModelError", "content_hash", "latest", "publish", "publish_bundled_if_none"]
