"""Tasks through the API: my tasks (cursor pages), claim and release, and completing a task with the
same JSON Schema its form uses (the requester's tasks without their internal fields, as on the page)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import g
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, or_, tuple_

from app import forms
from app.alarms import recovery
from app.alarms.models import RecoveryCheck
from app.api import paging, problems, representation, schemas
from app.api.auth import requires, roles_required
from app.api.blueprint import answers, bp, spec
from app.api.tokens import COMPLETE_TASKS, READ
from app.engine.lanes import REQUESTER
from app.incidents import permissions, visibility
from app.incidents.service import InvalidInput
from app.messages import N_, Message
from app.models import Incident, OpenTask
from app.web import HANDLERS, database, incident_service, queries

TAGS = ("tasks",)
TASK_PATH = "/tasks/<int:incident_id>/<task_id>"
ERRORS = (401, 403, 404, 409)


@bp.get("/tasks")
@requires(READ)
@spec.validate(
    query=schemas.TaskQuery,
    resp=answers(401, 403, HTTP_200=schemas.TaskList),
    tags=TAGS,
)
def my_tasks(query: schemas.TaskQuery):
    """My tasks, by deadline (tasks without one last): a handler's inbox (assigned to me, and those of
    my roles I may claim; `mine` for only the first) with their confirm-recovery checks (`kind`
    `recovery_check`, no deadline), a requester's confirmations of their incidents.
    Pages are cut with `limit` and continued with `cursor` (the `next_cursor` of the page before)."""
    actor = g.actor
    handler = bool(actor.roles & set(HANDLERS))
    if not handler and REQUESTER not in actor.roles:
        roles_required(*HANDLERS, REQUESTER)
    key = paging.decode(query.cursor, (datetime, datetime, str)) if query.cursor else None
    ranges = _tasks_after(key) if key else ((),)
    with database().read() as session:
        if handler:  # the inbox's parts, each read along its index from the cursor (app.web.queries)
            statement = queries.inbox_query(actor, queries.InboxFilter(mine=query.mine), 0, query.limit + 1, ranges)
        else:  # a requester's confirmations: their own incidents' few tasks
            statement = queries.requester_task_query(actor.user_id).order_by(None).order_by(*queries.INBOX_ORDER)
            statement = statement.where(or_(*(and_(*stretch) for stretch in ranges))) if key else statement
            statement = statement.limit(query.limit + 1)
        tasks = list(session.scalars(statement).unique())
        checks_after = _checks_after(key) if key else None
        checks = (
            recovery.pending(session, actor, query.limit + 1, mine=query.mine, after=checks_after) if handler else []
        )
        items = [(_task_key(row), representation.task(row, actor, row.incident)) for row in tasks]
        items += [(_check_key(item), representation.recovery_check(item, actor)) for item in checks]
    items.sort(key=lambda pair: _order(pair[0]))  # stable: each kind stays in its query's order
    page = items[: query.limit]
    more = len(items) > query.limit
    return schemas.TaskList(items=[out for _key, out in page], next_cursor=paging.encode(page[-1][0]) if more else None)


# The list's sort key, which a cursor carries: (deadline, created, id). A check has no deadline, comes
# after the tasks created at the same moment, and its id is marked so that a cursor says which it is.
CHECK = "recovery_check:"
NEVER = datetime.max.replace(tzinfo=UTC)


def _task_key(row: OpenTask) -> tuple:
    return (row.due_at, row.created_at, row.id)


def _check_key(item: recovery.Pending) -> tuple:
    return (None, item.check.created_at, f"{CHECK}{item.check.id}")


def _order(key: tuple) -> tuple:
    due_at, created_at, id_ = key
    return (due_at or NEVER, created_at, id_.startswith(CHECK))


def _check_id(key: list) -> int | None:
    """The check a cursor ends at, None for a task; a marked id that is not a number is not ours."""
    if not key[2].startswith(CHECK):
        return None
    number = key[2].removeprefix(CHECK)
    if key[0] is not None or not number.isdigit():
        raise problems.invalid({"cursor": Message(N_("This cursor is not one this API gave out."))})
    return int(number)


def _tasks_after(key: list) -> list[list[ColumnElement[bool]]]:
    """Tasks after `key` in deadline order, where tasks without a deadline come last: the stretches of
    that order to read, each a range of the inbox's indexes (a row comparison, not an OR)."""
    undated = OpenTask.due_at.is_(None)
    if _check_id(key) is not None:  # after a check: tasks created later, without a deadline
        return [[undated, OpenTask.created_at > key[1]]]
    if key[0] is None:
        return [[undated, tuple_(OpenTask.created_at, OpenTask.id) > tuple(key[1:])]]
    return [[tuple_(OpenTask.due_at, OpenTask.created_at, OpenTask.id) > tuple(key)], [undated]]


def _checks_after(key: list) -> ColumnElement[bool] | None:
    """Checks after `key`: all of them after a task with a deadline; after a task without one, those
    created since; after a check, the next ones."""
    number = _check_id(key)
    if number is not None:
        return paging.after((RecoveryCheck.created_at, RecoveryCheck.id), [key[1], number])
    return None if key[0] is not None else RecoveryCheck.created_at >= key[1]


def _task(incident_id: int, task_id: str) -> OpenTask:
    with database().read() as session:
        row = queries.task_of(session, incident_id, task_id)
    if row is None:
        raise problems.ApiProblem(404, _("Not found"), _("This task has already been completed, or no longer exists."))
    return row


def _form(row: OpenTask, *, posted: bool = False):
    """The task's form as this caller fills it in (the requester's without its internal fields). What is
    `posted` is read against the version's parsed model: its completion checks that the task is ready."""
    actor = g.actor
    if not permissions.may_work(actor, row, row.incident) and not actor.roles & set(HANDLERS):
        raise problems.ApiProblem(403, _("Not allowed"), _("You cannot work on this task."), type_=problems.REFUSED)
    service = incident_service()
    form = service.submitted_form(row) if posted else service.task_form(row.incident_id, row.id)
    if visibility.audience(actor, row.incident) == visibility.REQUESTER_SIDE:
        schema, ui = visibility.requester_form(form.schema, form.ui)
        return form, schema, ui
    return form, form.schema, form.ui


@bp.get(TASK_PATH + "/form")
@requires(READ)
@spec.validate(resp=answers(*ERRORS, HTTP_200=schemas.FormOut), tags=TAGS)
def task_form(incident_id: int, task_id: str):
    """The task's form: its JSON Schema, UI schema, and the answers it starts from."""
    _form_row, schema, ui = _form(_task(incident_id, task_id))
    return schemas.FormOut(json_schema=schema, ui_schema=ui, data=dict(_form_row.data))


@bp.post(TASK_PATH + "/claim")
@requires(COMPLETE_TASKS)
@spec.validate(resp=answers(*ERRORS, HTTP_200=schemas.Done), tags=TAGS)
def claim(incident_id: int, task_id: str):
    """Claim the task: it is mine until I complete or release it."""
    incident_service().claim(g.actor, incident_id, _task(incident_id, task_id).id)
    return schemas.Done(incident_id=incident_id)


@bp.post(TASK_PATH + "/release")
@requires(COMPLETE_TASKS)
@spec.validate(resp=answers(*ERRORS, HTTP_200=schemas.Done), tags=TAGS)
def release(incident_id: int, task_id: str):
    """Give the task back to its group's inbox."""
    incident_service().release(g.actor, incident_id, _task(incident_id, task_id).id)
    return schemas.Done(incident_id=incident_id)


@bp.post(TASK_PATH + "/complete")
@requires(COMPLETE_TASKS)
@spec.validate(json=schemas.Answers, resp=answers(*ERRORS, HTTP_200=schemas.Completed), tags=TAGS)
def complete(incident_id: int, task_id: str, json: schemas.Answers):
    """Complete the task with its form's answers (GET …/form), checked against the form's JSON Schema
    with the same messages the form shows. The answer lists the incident's open tasks after the step."""
    row = _task(incident_id, task_id)
    if not permissions.may_work(g.actor, row, row.incident):  # refused before its answers are read
        raise problems.ApiProblem(403, _("Not allowed"), _("You cannot work on this task."), type_=problems.REFUSED)
    _form_row, schema, _ui = _form(row, posted=True)
    data = dict(json.model_extra or {})
    try:
        forms.validate(schema, data)  # the requester's own form: no internal field can be sent
    except forms.FormErrors as error:
        raise InvalidInput(error.errors) from None
    rows = incident_service().complete_task(g.actor, incident_id, row.id, data, holders=True)
    return schemas.Completed(incident_id=incident_id, open_tasks=_open_tasks(row.incident, rows))


def _open_tasks(incident: Incident, rows: list[OpenTask]) -> list[schemas.TaskOut]:
    """The incident's open tasks as the caller reads it (its requester_id, which `may_work` needs, is
    not changed by completing a task)."""
    if visibility.audience(g.actor, incident) == visibility.REQUESTER_SIDE:
        rows = [row for row in rows if visibility.requester_sees_task(row)]
    return [representation.task(row, g.actor, incident) for row in rows]
