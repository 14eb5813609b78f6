"""Fill a database with the demo's incidents cloned to N, for the page benchmarks (docs/bench.md, issue 14).

Run (an empty database, or `--reset` to empty it first):
`.venv/bin/python bench/fill.py --database postgresql://postgres@127.0.0.1:5432/bench_pages --incidents 100000 --reset`
(`--database sqlite:////tmp/bench.sqlite3` for SQLite).

1. The demo accounts (password `demo1234`, a fast hash: sign-in is not what is measured) and the
   demo's incidents, replayed through the real service as `flask demo load` does: the templates.
2. Clones of the templates, written in bulk (COPY on PostgreSQL, executemany on SQLite) until there
   are `--incidents`: the incident row, its engine state, open tasks, audit rows, searchable texts,
   announcements and problem tickets. A clone is its template moved in time: every time it carries
   (columns, the ISO times inside audit data and open engine states) shifts by one random amount,
   so closed incidents spread over `--months`, open ones over the last `--open-days` (a share
   `--open-share` of all). Titles get a city, so searches and repeats do not match every clone.

What the clones are worth to the app:
- every incident's audit chain is re-keyed under the bench key (`AUDIT_KEY`, which bench/pages.py
  gives the server): `audit verify` passes and the history pages show intact chains;
- an open clone's engine state has its own task ids (those of its open tasks) and shifted times:
  its tasks can be worked and its timers fire (due ones are printed). The timestamps the engine
  keeps for itself (`last_state_change`) and the texts inside the state stay the template's;
- a closed clone shares its template's engine state byte for byte (a closed incident is never loaded);
- not cloned: notifications, comments, attachments, links; a clone of a major incident's child
  has no parent. Every actor but the requesters is one of the demo accounts.
3. Requesters as in real life: an incident the demo gave to a requester goes to one of a pool of
   requester accounts (the demo's two and `bench_requester…`, about `--per-requester` incidents
   each), with its confirmation tasks and its requester's audit rows; the portal then shows one
   person's dozens of incidents, not 70 % of the database.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
import uuid
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the app runs from the checkout

from sqlalchemy import func, select, text  # noqa: E402

from app import migrate  # noqa: E402
from app.audit import SYSTEM  # noqa: E402
from app.audit.chain import GENESIS, HASHED_FIELDS, INCIDENT_PREFIX, mac  # noqa: E402
from app.db import Database  # noqa: E402
from app.demo import ACCOUNTS, DEMO_PASSWORD, load_incidents  # noqa: E402
from app.engine.lanes import REQUESTER  # noqa: E402
from app.incidents.projection import ACTIVE_STATUSES  # noqa: E402
from app.incidents.service import IncidentService  # noqa: E402
from app.models import (  # noqa: E402
    Announcement,
    AuditEvent,
    Incident,
    IncidentState,
    OpenTask,
    ProblemTicket,
    User,
    UserRole,
    utcnow,
)
from app.process import versions  # noqa: E402
from app.reports import counters  # noqa: E402
from app.reports.rollup import rebuild  # noqa: E402
from app.search.models import SearchDocument  # noqa: E402
from app.users import actor_of, create_user  # noqa: E402
from bench.action_cost import AUDIT_KEY  # noqa: E402
from bench.http_load import FAST_HASH  # noqa: E402

CITIES = ("南京", "苏州", "无锡", "常州", "镇江", "扬州", "泰州", "南通", "盐城", "淮安", "宿迁", "连云港", "徐州")
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?\+00:00"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ISO_SPLIT = re.compile(f"({ISO})")
STATE_SPLIT = re.compile(f"({ISO}|{UUID})")
BATCH = 2000  # clones per write
REQUESTER_PREFIX = "bench_requester"


@dataclass
class Template:
    """One demo incident and everything cloned with it."""

    incident: dict[str, Any]
    state: IncidentState
    state_parts: list[str]  # the state's JSON split around ISO times and task ids (odd items)
    tasks: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    audit_parts: list[list[str]]  # each row's data split around ISO times (odd items)
    searches: list[dict[str, Any]]
    announcements: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    last_at: datetime = field(init=False)  # its last audit row: a clone's shift keeps it in the past

    def __post_init__(self) -> None:
        self.last_at = max(row["at"] for row in self.audit)

    @property
    def active(self) -> bool:
        return self.incident["status"] in ACTIVE_STATUSES


class Writer:
    """Bulk rows into one table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, db: Database):
        self.db = db
        self.postgresql = db.is_postgresql

    def write(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        raw = self.db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.postgresql:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(columns))
                cursor.execute("BEGIN")
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                                   [tuple(map(_sqlite_value, row)) for row in rows])  # fmt: skip
            raw.commit()
        finally:
            raw.close()


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy stores on SQLite: UTC datetimes as naive text with microseconds."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _columns(model: type) -> list[str]:
    return [column.name for column in model.__table__.columns]


def reset(url: str) -> None:
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    db = Database(url)
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    db.dispose()


def make_templates(db: Database, now: datetime) -> None:
    """The demo accounts and incidents, through the real service."""
    with db.transaction() as session:
        versions.publish_bundled_if_none(session, SYSTEM)
        users = [create_user(session, name, DEMO_PASSWORD, roles, display, hash_method=FAST_HASH)
                 for name, display, roles in ACCOUNTS]  # fmt: skip
        session.flush()
        people = {user.username: actor_of(user) for user in users}
    load_incidents(IncidentService(db), people, now)


def read_templates(db: Database) -> list[Template]:
    def rows(model: type, order: Any) -> dict[int, list[dict[str, Any]]]:
        grouped = defaultdict(list)
        for row in session.execute(select(model.__table__).order_by(order)).mappings():
            grouped[row["incident_id"]].append(dict(row))
        return grouped

    with db.read() as session:
        incidents = [dict(row) for row in session.execute(select(Incident.__table__).order_by(Incident.id)).mappings()]
        states = {state.incident_id: state for state in session.scalars(select(IncidentState))}
        tasks = rows(OpenTask, OpenTask.created_at)
        audit = rows(AuditEvent, AuditEvent.id)
        searches = rows(SearchDocument, SearchDocument.id)
        announcements = rows(Announcement, Announcement.id)
        problems = rows(ProblemTicket, ProblemTicket.id)
    templates = []
    for incident in incidents:
        key = incident["id"]
        state = states[key]
        templates.append(Template(
            incident, state, STATE_SPLIT.split(zlib.decompress(state.state).decode()), tasks[key], audit[key],
            [ISO_SPLIT.split(row["data"]) for row in audit[key]], searches[key], announcements[key], problems[key],
        ))  # fmt: skip
    return templates


@dataclass
class Ids:
    """The next id of each table the clones write."""

    incident: int
    audit: int
    search: int
    announcement: int
    problem: int


@dataclass(frozen=True)
class Requesters:
    """The accounts a clone's requester is drawn from: the demo's requesters and the bench's."""

    demo: frozenset[int]  # the templates' requesters: their incidents get one of `pool`
    pool: list[tuple[int, str]]  # (user id, display name)


class Cloner:
    def __init__(self, writer: Writer, ids: Ids, rng: random.Random, requesters: Requesters):
        self.writer, self.ids, self.rng, self.requesters = writer, ids, rng, requesters
        self.rows: dict[str, list[tuple]] = defaultdict(list)
        self.columns = {model.__tablename__: _columns(model)
                        for model in (Incident, IncidentState, OpenTask, AuditEvent, SearchDocument, Announcement,
                                      ProblemTicket)}  # fmt: skip

    def clone(self, template: Template, shift: timedelta) -> None:
        incident_id = self.ids.incident
        self.ids.incident += 1
        old_title = template.incident["title"]
        title = f"{old_title}（{self.rng.choice(CITIES)}）"
        task_ids: dict[str, str] = defaultdict(lambda: str(uuid.uuid4()))
        problem_numbers = {}
        for problem in template.problems:
            problem_numbers[f"PRB{problem['id']:06d}"] = f"PRB{self.ids.problem:06d}"
            self._add(ProblemTicket, problem, shift, id=self.ids.problem, incident_id=incident_id)
            self.ids.problem += 1

        def data_of(parts: list[str]) -> str:
            joined = "".join(_shifted(part, shift) if odd else part for odd, part in _alternate(parts))
            if old_title in joined:
                joined = joined.replace(old_title, title)
            for old, new in problem_numbers.items():
                joined = joined.replace(f'"{old}"', f'"{new}"')
            return joined

        old_requester = template.incident["requester_id"]
        new_requester, requester_name = None, None
        if old_requester in self.requesters.demo:
            new_requester, requester_name = self.rng.choice(self.requesters.pool)

        def person(user_id: int | None) -> int | None:  # the requester's rows follow the new requester
            return new_requester if new_requester and user_id == old_requester else user_id

        self._add(Incident, template.incident, shift, id=incident_id, title=title, parent_id=None,
                  requester_id=person(old_requester))  # fmt: skip
        state = template.state.state
        if template.active:  # its own task ids and times: it can be worked on and its timers fire
            parts = [(task_ids[part] if "T" not in part else _shifted(part, shift)) if odd else part
                     for odd, part in _alternate(template.state_parts)]  # fmt: skip
            state = zlib.compress("".join(parts).encode(), 1)
        self.rows[IncidentState.__tablename__].append((incident_id, template.state.serializer_version, state))
        for task in template.tasks:
            self._add(OpenTask, task, shift, id=task_ids[task["id"]], incident_id=incident_id,
                      assignee_id=person(task["assignee_id"]))  # fmt: skip
        audit_ids, previous = {}, GENESIS
        chain = f"{INCIDENT_PREFIX}{incident_id}"
        for row, parts in zip(template.audit, template.audit_parts, strict=True):
            audit_ids[row["id"]] = self.ids.audit
            values = {**row, "id": self.ids.audit, "chain": chain, "incident_id": incident_id, "at": row["at"] + shift,
                      "prev_hash": previous, "data": data_of(parts),
                      "task_id": task_ids[row["task_id"]] if row["task_id"] else None}  # fmt: skip
            if new_requester and row["actor_id"] == old_requester:
                values.update(actor_id=new_requester, actor_name=requester_name)
            values["hash"] = previous = mac(AUDIT_KEY, [values[name] for name in HASHED_FIELDS])
            self.rows[AuditEvent.__tablename__].append(tuple(values[name] for name in self.columns["audit_events"]))
            self.ids.audit += 1
        for row in template.searches:
            body = row["body"].replace(old_title, title)
            self._add(SearchDocument, row, shift, id=self.ids.search, incident_id=incident_id,
                      audit_id=audit_ids[row["audit_id"]], body=body)  # fmt: skip
            self.ids.search += 1
        for row in template.announcements:
            self._add(Announcement, row, shift, id=self.ids.announcement, incident_id=incident_id)
            self.ids.announcement += 1

    def _add(self, model: type, row: dict[str, Any], shift: timedelta, **changes: Any) -> None:
        values = {name: (value + shift if isinstance(value, datetime) else value) for name, value in row.items()}
        values.update(changes)
        self.rows[model.__tablename__].append(tuple(values[name] for name in self.columns[model.__tablename__]))

    def flush(self) -> None:
        for table in self.columns:  # parents first: the foreign keys hold at every write
            self.writer.write(table, self.columns[table], self.rows.pop(table, []))


def _alternate(parts: list[str]) -> list[tuple[bool, str]]:
    return [(index % 2 == 1, part) for index, part in enumerate(parts)]


def _shifted(iso: str, shift: timedelta) -> str:
    return (datetime.fromisoformat(iso) + shift).isoformat()


def plan(templates: list[Template], count: int, open_share: float, months: int, open_days: float,
         now: datetime, rng: random.Random) -> list[tuple[Template, timedelta]]:  # fmt: skip
    """Which template each clone copies and how far it moves, oldest clone first (ids rise with time)."""
    active = [template for template in templates if template.active]
    done = [template for template in templates if not template.active]
    wanted_open = max(0, round(open_share * (count + len(templates))) - len(active))
    chosen = []
    for number in range(count):
        is_open = number < wanted_open
        template = rng.choice(active if is_open else done)
        back = timedelta(days=rng.uniform(0, open_days if is_open else months * 30.4))
        chosen.append((template, (now - template.last_at) - back - timedelta(minutes=1)))
    chosen.sort(key=lambda pair: pair[0].incident["created_at"] + pair[1])
    return chosen


def add_requesters(db: Database, writer: Writer, clones: int, per_requester: int) -> Requesters:
    """The demo's requesters and enough bench accounts that each has about `per_requester` incidents."""
    with db.read() as session:
        demo = list(session.execute(
            select(User.id, User.display_name).join(UserRole).where(UserRole.role == REQUESTER).order_by(User.id)
        ).all())  # fmt: skip
        template_hash = session.scalar(select(User.password_hash).where(User.id == demo[0][0]))
        next_id = (session.scalar(select(func.max(User.id))) or 0) + 1
    # about 3 in 4 of the demo's incidents have a requester account; the pool is sized for those
    extra = max(0, round(0.75 * clones / max(per_requester, 1)) - len(demo))
    accounts = [(next_id + number, f"{REQUESTER_PREFIX}{number + 1:05d}", f"报障人{number + 1:05d}")
                for number in range(extra)]  # fmt: skip
    now = utcnow()
    writer.write(
        "users",
        ["id", "username", "display_name", "password_hash", "active", "created_at"],
        [(user_id, name, display, template_hash, True, now) for user_id, name, display in accounts],
    )
    writer.write("user_roles", ["user_id", "role"], [(user_id, REQUESTER) for user_id, _, _ in accounts])
    pool = demo + [(user_id, display) for user_id, _, display in accounts]
    return Requesters(frozenset(user_id for user_id, _ in demo), pool)


def finish(db: Database) -> None:
    with db.transaction() as session:  # the clones' audit rows went in past the roll-ups' listeners
        rebuild(session)
        counters.rebuild(session)  # and their incidents past the counters'
    if not db.is_postgresql:
        return
    with db.engine.begin() as connection:
        for table in ("users", "incidents", "audit_events", "search_documents", "announcements", "problem_tickets"):
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT coalesce(max(id), 1) FROM {table}))"))  # fmt: skip
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="PostgreSQL or SQLite URL of a database the bench may fill")
    parser.add_argument("--incidents", type=int, default=10_000, help="incidents in all, the demo's included")
    parser.add_argument("--open-share", type=float, default=0.1, help="share of incidents not closed yet")
    parser.add_argument("--open-days", type=float, default=14, help="open incidents were raised within these days")
    parser.add_argument("--months", type=int, default=12, help="closed incidents spread over these months")
    parser.add_argument(
        "--per-requester",
        type=int,
        default=40,
        help="about this many incidents per requester account (the pool grows with --incidents)",
    )
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--reset", action="store_true", help="empty the database first (drops every table)")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.reset:
        reset(args.database)
    migrate.upgrade(args.database, AUDIT_KEY)
    db = Database(args.database, audit_key=AUDIT_KEY)
    with db.read() as session:
        if session.scalar(select(func.count()).select_from(Incident)):
            sys.exit("the database has incidents already: give an empty one, or --reset")
    now = utcnow()
    make_templates(db, now)
    templates = read_templates(db)
    print(f"{len(templates)} demo incidents replayed in {time.perf_counter() - started:.1f} s", flush=True)
    with db.read() as session:

        def next_id(model: type) -> int:
            return (session.scalar(select(func.max(model.id))) or 0) + 1

        ids = Ids(next_id(Incident), next_id(AuditEvent), next_id(SearchDocument), next_id(Announcement),
                  next_id(ProblemTicket))  # fmt: skip
    rng = random.Random(args.seed)
    chosen = plan(templates, args.incidents - len(templates), args.open_share, args.months, args.open_days, now, rng)
    writer = Writer(db)
    requesters = add_requesters(db, writer, len(chosen), args.per_requester)
    print(f"{len(requesters.pool)} requester accounts", flush=True)
    cloner = Cloner(writer, ids, rng, requesters)
    for number, (template, shift) in enumerate(chosen, start=1):
        cloner.clone(template, shift)
        if number % BATCH == 0 or number == len(chosen):
            cloner.flush()
            print(f"\r{number} clones, {time.perf_counter() - started:.0f} s", end="", flush=True)
    print()
    finish(db)
    with db.read() as session:

        def count(model: type, *where: Any) -> int:
            return session.scalar(select(func.count()).select_from(model).where(*where))

        print(f"{count(Incident)} incidents ({count(Incident, Incident.status.in_(ACTIVE_STATUSES))} open, "
              f"{count(Incident, Incident.next_timer_due <= utcnow())} with a due timer), "
              f"{count(AuditEvent)} audit rows, {count(OpenTask)} open tasks, {count(SearchDocument)} search texts "
              f"in {time.perf_counter() - started:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
