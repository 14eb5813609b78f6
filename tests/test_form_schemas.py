"""Form schemas as untrusted input (app/forms.py): they never reach the network or the disk, and their
text fields fit the columns they are stored in — walked for every form, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import inspect

from app import forms
from app.audit import SYSTEM, Actor
from app.forms import COLUMN_FIELDS, read_form_files
from app.models import Incident, ProblemTicket
from app.process import drafts, versions
from app.process.problems import ModelError
from app.process.versions import BUNDLED_DIAGRAM
from tests.driver import pass_on, registration, resolved

OWNER = Actor(None, "郑涛", frozenset({"process_owner"}))


@pytest.fixture
def remote():
    """A real HTTP server on loopback that counts the requests it gets (none may arrive)."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"type": "string", "enum": ["guessed"]}')

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/enum.json", hits
    server.shutdown()
    thread.join()


def with_notes_ref(ref: str) -> dict[str, str]:
    """The bundled forms, with the initial-support notes field pointing at `ref`."""
    files = read_form_files()
    schema = json.loads(files["initial_support.schema.json"])
    schema["properties"]["handling"]["properties"]["notes"] = {"$ref": ref}
    files["initial_support.schema.json"] = json.dumps(schema, ensure_ascii=False)
    return files


@pytest.mark.parametrize("kind", ["http", "file"])
def test_a_form_schema_never_reaches_the_network_or_the_disk(db, remote, tmp_path, kind):
    url, hits = remote
    secret = tmp_path / "secret.json"
    secret.write_text('{"enum": ["s3cret"]}')
    ref = url if kind == "http" else secret.as_uri()
    forms_with_ref = with_notes_ref(ref)
    with db.transaction() as session:
        versions.publish_bundled_if_none(session, SYSTEM)
        draft_id = drafts.create(session, OWNER).id

    # The forms editor refuses it, naming the reference …
    with pytest.raises(drafts.InvalidForms) as refused, db.transaction() as session:
        drafts.save_forms(
            session, draft_id, 1, {"initial_support.schema.json": forms_with_ref["initial_support.schema.json"]}, OWNER
        )
    assert ref in str(refused.value.errors["initial_support.schema.json"])
    # … publication refuses it, naming the form and the reference …
    with pytest.raises(ModelError) as error, db.transaction() as session:
        versions.publish(session, BUNDLED_DIAGRAM.read_text(encoding="utf-8"), forms_with_ref, OWNER)
    assert "initial_support.schema.json" in str(error.value) and ref in str(error.value)
    # … and a schema stored before these checks is validated without fetching or reading anything.
    schema = json.loads(forms_with_ref["initial_support.schema.json"])
    with pytest.raises(forms.FormErrors) as invalid:
        forms.validate(schema, {"handling": {"outcome": "pass_on", "next_stage": "first_line", "notes": "s3cret"}})
    assert ref in str(invalid.value)
    assert hits == []


def test_references_inside_a_form_still_work_and_missing_ones_are_named(db):
    schema = {
        "type": "object",
        "$defs": {"reason": {"type": "string", "maxLength": 10}},
        "properties": {"a": {"$ref": "#/$defs/reason"}, "b": {"$ref": "#/$defs/nothing"}},
    }
    assert forms.outside_refs(schema) == [] and forms.unresolvable_refs(schema) == ["#/$defs/nothing"]
    del schema["properties"]["b"]
    assert forms.validate(schema, {"a": "ok"}) == {"a": "ok"}
    with pytest.raises(forms.FormErrors) as long:
        forms.validate(schema, {"a": "x" * 11})
    assert set(long.value.errors) == {"a"}


def string_fields(schema: dict, base: str = ""):
    for name, prop in schema.get("properties", {}).items():
        path = f"{base}.{name}" if base else name
        if prop.get("type") == "object":
            yield from string_fields(prop, path)
        elif prop.get("type") == "string" and "enum" not in prop and "format" not in prop:  # text, not a time
            yield path, prop


def test_every_form_field_fits_its_column_in_the_database(db):
    """Walks every text field of every form against the column it is stored in, as the database itself
    reports the column (varchar(n) on PostgreSQL and SQLite alike)."""
    reflected = inspect(db.engine)
    lengths = {
        (table, column["name"]): getattr(column["type"], "length", None)
        for table in ("incidents", "problem_tickets")
        for column in reflected.get_columns(table)
    }
    seen = set()
    for name, text in read_form_files().items():
        if not name.endswith(".schema.json"):
            continue
        for path, prop in string_fields(json.loads(text)):
            assert isinstance(prop.get("maxLength"), int), f"{name}: {path} has no maxLength"
            for column in COLUMN_FIELDS.get(path, ()):
                seen.add(path)
                limit = lengths[(column.table.name, column.name)]
                assert prop["maxLength"] <= limit, f"{name}: {path} allows {prop['maxLength']}, {column} holds {limit}"
    assert seen == set(COLUMN_FIELDS)  # every entry names a field some form has


def test_the_longest_text_each_form_allows_is_stored_whole(desk, db):
    """At each text field's maxLength, in Chinese (one character, three bytes), on both databases."""
    long = {
        path: "长" * prop["maxLength"]
        for path, prop in string_fields(json.loads(read_form_files()["register_incident.schema.json"]))
    }
    data = registration(complaints=20)
    data["incident"].update(
        title=long["incident.title"], system=long["incident.system"], contact=long["incident.contact"]
    )
    incident_id = desk.register(data, requester=None)
    reference = "参" * 200
    desk.complete("service_desk", incident_id, "initial_support", pass_on("second_line", "development"))
    change = {"outcome": "change", "change_kind": "defect", "change_reference": reference}
    desk.complete("second_line_dev", incident_id, "second_line_handling", {"handling": change})
    incident = desk.incident(incident_id)
    assert (incident.title, incident.system, incident.requester_name) == (
        long["incident.title"],
        long["incident.system"],
        long["incident.contact"],
    )
    assert incident.change_reference == reference

    other = desk.register(registration("request"))
    desk.complete("service_desk", other, "initial_support", resolved("workaround", "手工补录数据"))
    desk.complete("requester", other, "confirm_resolution", {"confirmation": {"resolved": True}})
    title = "题" * 200
    closure = {"code": "workaround", "follow_up": "problem", "follow_up_title": title}
    desk.complete("service_desk", other, "close_incident", {"closure": closure})
    with db.read() as session:
        assert session.query(ProblemTicket).filter_by(incident_id=other).one().title == title


def test_publication_refuses_a_field_longer_than_its_column(db):
    files = read_form_files()
    schema = json.loads(files["register_incident.schema.json"])
    schema["properties"]["incident"]["properties"]["contact"]["maxLength"] = 300
    files["register_incident.schema.json"] = json.dumps(schema, ensure_ascii=False)
    with pytest.raises(ModelError) as error, db.transaction() as session:
        versions.publish(session, BUNDLED_DIAGRAM.read_text(encoding="utf-8"), files, OWNER)
    limit = Incident.requester_name.type.length
    assert f"field incident.contact may hold at most {limit} characters" in str(error.value)
