"""The `flask --app wsgi …` commands, as an operator would run them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from app.models import AuditEvent, User, UserRole
from app.process.versions import BUNDLED_DIAGRAM
from tests.driver import registration


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_db_upgrade_publishes_the_bundled_process_once(cli):
    result = cli.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "process incident_management version 1" in result.output
    assert "version 1" in cli.invoke(args=["db", "upgrade"]).output


def test_users_create(cli, db):
    result = cli.invoke(args=["users", "create", "lisi", "--role", "first_line", "--role", "service_desk",
                              "--name", "李四", "--password", "secret-pass"])  # fmt: skip
    assert result.exit_code == 0, result.output
    with db.read() as session:
        user = session.scalar(select(User).where(User.username == "lisi"))
        roles = set(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
    assert user.display_name == "李四" and roles == {"first_line", "service_desk"}
    again = cli.invoke(args=["users", "create", "lisi", "--role", "first_line", "--password", "secret-pass"])
    assert again.exit_code == 1 and "already exists" in again.output
    short = cli.invoke(args=["users", "create", "wangwu", "--role", "first_line", "--password", "short"])
    assert short.exit_code == 1 and "at least 8" in short.output
    changed = cli.invoke(args=["users", "set", "lisi", "--role", "second_line_is", "--disabled"])
    assert changed.exit_code == 0 and "updated lisi: roles, active" in changed.output
    listing = cli.invoke(args=["users", "list"]).output
    assert "lisi" in listing and "second_line_is" in listing and "(disabled)" in listing
    with db.read() as session:
        kinds = list(session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))
    assert kinds == ["user_created", "user_updated"]
    assert cli.invoke(args=["users", "set", "nobody", "--active"]).exit_code == 1


def test_disabling_a_handler_returns_their_tasks_to_the_pool(cli, desk, actors):
    incident_id = desk.register(registration(complaints=20))
    desk.service.claim(actors["service_desk"], incident_id, desk.task(incident_id, "initial_support").id)
    result = cli.invoke(args=["users", "set", "service_desk", "--disabled"])
    assert result.exit_code == 0 and "1 open task(s) returned to their group's pool" in result.output
    assert desk.task(incident_id, "initial_support").assignee_id is None
    assert desk.audit_kinds(incident_id)[-1] == "task_released"


def test_rules_classify_contract(cli):
    lines = "\n".join(
        [
            json.dumps({"type": "fault", "complaints": 120}),
            "not json",
            json.dumps({"type": "complaint", "vp_complaint": True}),
        ]
    )
    result = cli.invoke(args=["rules", "classify"], input=lines + "\n")
    assert result.exit_code == 1
    first, error, third = [json.loads(line) for line in result.output.strip().splitlines()]
    assert (first["level"], first["impact"], first["urgency"], first["emergency"]) == ("orange", "severe", "high", True)
    assert first["deadline_hours"] == 12 and first["escalations"] == []
    assert set(error) == {"error"}
    assert (third["impact"], third["deadline_hours"], third["escalations"]) == ("severe", 12, ["E5"])


def test_process_validate_and_publish(cli, tmp_path):
    assert cli.invoke(args=["db", "upgrade"]).exit_code == 0
    ok = cli.invoke(args=["process", "validate", str(BUNDLED_DIAGRAM)])
    assert ok.exit_code == 0 and "no problems" in ok.output

    bad = tmp_path / "processes" / "bad.bpmn"
    bad.parent.mkdir()
    (tmp_path / "forms").symlink_to(BUNDLED_DIAGRAM.parent.parent / "forms")
    xml = BUNDLED_DIAGRAM.read_text(encoding="utf-8")
    bad.write_text(xml.replace('name="一线"', 'name="三线"'), encoding="utf-8")
    result = cli.invoke(args=["process", "validate", str(bad)])
    assert result.exit_code == 1 and "lane_first_line: lane '三线' is not known" in result.output
    refused = cli.invoke(args=["process", "publish", str(bad), "--comment", "x"])
    assert refused.exit_code == 1

    relabelled = tmp_path / "processes" / "relabelled.bpmn"
    relabelled.write_text(xml.replace('name="初始支持"', 'name="初始支持（运维）"'), encoding="utf-8")
    published = cli.invoke(args=["process", "publish", str(relabelled), "--comment", "初始支持改名"])
    assert published.exit_code == 0 and "published incident_management version 2" in published.output
    again = cli.invoke(args=["process", "publish", str(relabelled), "--comment", "again"])
    assert "unchanged" in again.output and "version 2" in again.output


def test_audit_verify_and_checkpoint_detect_an_edited_row_and_a_deleted_tail(cli, app, db):
    assert cli.invoke(args=["db", "upgrade"]).exit_code == 0
    cli.invoke(args=["users", "create", "lisi", "--role", "service_desk", "--password", "secret-pass"])
    intact = cli.invoke(args=["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "audit log intact: 2 rows in 2 chains verified, no checkpoint yet" in intact.output
    sealed = cli.invoke(args=["audit", "checkpoint"])
    folder = app.config["AUDIT_CHECKPOINT_DIR"]
    assert sealed.exit_code == 0 and f"checkpoint 1 written to {folder}: 2 chain(s) moved on" in sealed.output
    cli.invoke(args=["users", "create", "wangwu", "--role", "first_line", "--password", "secret-pass"])
    if db.is_postgresql:  # the app's statements are refused; only a superuser with the triggers off gets through
        for statement in ("UPDATE audit_events SET actor_name = 'someone else'", "DELETE FROM audit_events",
                          "TRUNCATE audit_events"):  # fmt: skip
            with pytest.raises(Exception, match="append-only"), db.engine.begin() as connection:
                connection.execute(text(statement))
    with db.engine.begin() as connection:
        if db.is_postgresql:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("UPDATE audit_events SET actor_name = 'someone else' WHERE kind = 'version_published'"))
        connection.execute(text("DELETE FROM audit_events WHERE chain = 'accounts' AND seq = 2"))  # the tail
    broken = cli.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and "audit log BROKEN: 1 problem(s)" in broken.output
    assert "chain process position 1 (row 1): its content does not match its hash" in broken.output
    # the deleted tail (wangwu) was never sealed: only a checkpoint after it would have caught it
    cli.invoke(args=["audit", "checkpoint"])
    with db.engine.begin() as connection:
        if db.is_postgresql:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("DELETE FROM audit_events WHERE chain = 'accounts'"))
    broken = cli.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and "audit log BROKEN: 2 problem(s)" in broken.output
    assert "chain accounts: the whole chain is missing (checkpoint 1 sealed 1 rows)" in broken.output


def test_timers_run_once_fires_what_is_due(cli, desk, clock):
    from datetime import timedelta

    from tests.driver import registration

    incident_id = desk.register(registration("consultation"))  # 48 h; warning after 38.4 h
    clock.tick(timedelta(hours=39))
    result = cli.invoke(args=["timers", "run", "--once"])
    assert result.exit_code == 0 and "fired timers of 1 incident(s)" in result.output
    assert "follow_up_warning" in desk.open_specs(incident_id)
