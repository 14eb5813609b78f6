"""A fuzzer for the web app: reproducible random requests over every route, as every role, with hostile
values — and the invariant that no request fails on the server and nothing is left half-written.

Used by tests/web/test_fuzz.py (a bounded run in the suite, on SQLite and PostgreSQL) and by
bench/fuzz.py (longer runs). Requests go through Flask's test client to the real app and database.
Each request picks a route, a subject (an account of one role, one with every role, or nobody), real
ids or absurd ones for the URL, and form fields, query arguments or a JSON body from what the pages
themselves offer (field names, option values) mixed with hostile values. Every response must be below
500 and carry no traceback; at the end (`check_integrity`) every incident must still load with its
open tasks matching its workflow, the audit chain must verify, and no session may outlive its account.
"""

from __future__ import annotations

import io
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field

from flask import Flask, url_for
from sqlalchemy import select, text

from app.audit import SYSTEM, audit_key
from app.audit.verification import describe, verify
from app.db import Database
from app.engine import operations
from app.engine.runtime import Run
from app.incidents import state
from app.incidents.service import IncidentService
from app.models import Incident, IncidentState, OpenTask, ProcessVersion, User, UserSession, utcnow
from app.process import versions
from app.process.models import ProcessDraft
from app.users import ROLES, actor_of, create_user
from tests.driver import Desk, pass_on, registration, resolved

FAST_HASH = "pbkdf2:sha256:1"
PASSWORD = "password123"
EVERYTHING = "everything"  # an account with every role: reaches every view's body
SUBJECTS = (*ROLES, EVERYTHING, None)  # None: signed out

HOSTILE = [
    "", " ", "0", "-1", "1", "2147483647", "2147483648", "9223372036854775808", "1e309", "NaN", "-0", "inf",
    "true", "false", "null", "on", "x" * 5000, "长" * 300, "<script>alert(1)</script>", "' OR 1=1 --", "%",
    "_", "\\", "../../etc/passwd", "2026-03-02T09:00", "2026-13-45T99:99", "0001-01-01", "0001-01-01T00:00",
    "9999-12-31", "9999-12-31T23:59", "2026-02-30", "INC000001", "INC99999999999", "²", "١٢", "a\x00b",
    "\x00", "\x1b[31m", "line\r\nSet-Cookie: x=1", "\t", "😀" * 50, "\u202e", "\ufeff", "{}", "[]",
    '{"a": ', "//evil.example/", "/\\evil.example", "https://evil.example/", "javascript:alert(1)",
]  # fmt: skip
HOSTILE_IDS = [0, 1, 2, 3, 2**31 - 1, 999_999]
HOSTILE_SEGMENTS = ["x", "-1", "%00", "..", "a" * 300, "00000000-0000-0000-0000-000000000000"]
QUERY_NAMES = ["q", "status", "type", "level", "from", "to", "page", "bucket", "group", "person", "role",
               "emergency", "breached", "mine", "next", "incident", "sort"]  # fmt: skip

NAME = re.compile(r'\bname="([^"]+)"')
INPUT = re.compile(r"<(?:input|button)\b[^>]*>", re.S)
SELECT = re.compile(r'<select\b[^>]*\bname="([^"]+)"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option\b[^>]*\bvalue="([^"]*)"')
VALUE = re.compile(r'\bvalue="([^"]*)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
ACTION = re.compile(r'\baction="([^"]*)"')


@dataclass
class Finding:
    request: str
    status: int
    detail: str

    def __str__(self) -> str:
        return f"{self.status} {self.request}: {self.detail}"


@dataclass
class Fuzzer:
    app: Flask
    db: Database
    seed: int = 0
    random: random.Random = field(init=False)
    clients: dict[str | None, object] = field(default_factory=dict)
    tokens: dict[str | None, str] = field(default_factory=dict)
    fields: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # endpoint → field names
    values: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # field name → values seen
    findings: list[Finding] = field(default_factory=list)
    requests: int = 0
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.rules = sorted((r for r in self.app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: r.rule)
        for subject in SUBJECTS:
            client = self.app.test_client()
            client.environ_base["REMOTE_ADDR"] = f"10.0.0.{SUBJECTS.index(subject) + 1}"
            self.clients[subject] = client
            self._sign_in(subject)

    # ---------------------------------------------------------------- the run

    def run(self, count: int) -> list[Finding]:
        """Every route and method once, then random requests, `count` in all."""
        plan = [(rule, method) for rule in self.rules for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
        for number in range(count):
            rule, method = plan[number] if number < len(plan) else self._pick()
            self._request(rule, method)
            if number % 100 == 99:
                self._revive()
        return self.findings

    def _pick(self):
        rule = self.random.choice(self.rules)
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        return rule, self.random.choice(methods)

    def _subject(self, rule) -> str | None:
        roles = getattr(self.app.view_functions[rule.endpoint], "required_roles", None)
        if self.random.random() < 0.7 and roles:
            return self.random.choice([*roles, EVERYTHING])
        return self.random.choice(SUBJECTS)

    def _request(self, rule, method: str) -> None:
        subject = self._subject(rule)
        client = self.clients[subject]
        url = self._url(rule)
        kwargs: dict = {}
        if method == "GET":
            if self.random.random() < 0.5:
                url += ("&" if "?" in url else "?") + self._query()
        else:
            kwargs = self._body(rule, subject)
        self.requests += 1
        try:
            response = client.open(url, method=method, **kwargs)
        except Exception as error:  # the test client itself refused the request (an unencodable value)
            if isinstance(error, UnicodeError | ValueError):
                return
            raise
        body = response.get_data(as_text=True) if response.mimetype.startswith(("text/", "application/json")) else ""
        self.statuses[f"{method} {rule.endpoint}"][response.status_code] += 1
        described = f"{method} {url} as {subject or 'anonymous'}" + (f" {_short(kwargs)}" if kwargs else "")
        not_ready = rule.endpoint == "health.readyz" and response.status_code == 503  # the probe's answer: no worker
        if response.status_code >= 500 and not not_ready:
            self.findings.append(Finding(described, response.status_code, _excerpt(body)))
        elif "Traceback (most recent call last)" in body:
            self.findings.append(Finding(described, response.status_code, "a traceback in the page"))
        if method == "GET" and response.status_code == 200 and response.mimetype == "text/html":
            self._harvest(rule.endpoint, body, subject)

    # ---------------------------------------------------------------- what requests carry

    def _url(self, rule) -> str:
        values = {}
        for name in rule.arguments:
            values[name] = self._argument(name)
        with self.app.test_request_context():
            try:
                return url_for(rule.endpoint, **values)
            except Exception:
                return url_for(rule.endpoint, **{name: 1 if name.endswith("_id") else "x" for name in values})

    def _argument(self, name: str):
        real = self._real_ids(name)
        if real and self.random.random() < 0.75:
            return self.random.choice(real)
        if name == "task_id":
            return self.random.choice(HOSTILE_SEGMENTS)
        if name == "name":
            return self.random.choice(["breaches", "timeliness", "x", "%00", "a" * 200])
        return self.random.choice(HOSTILE_IDS)

    def _real_ids(self, name: str) -> list:
        with self.db.read() as session:
            if name == "incident_id":
                return list(session.scalars(select(Incident.id)))
            if name == "task_id":
                return list(session.scalars(select(OpenTask.id)))
            if name == "draft_id":
                return list(session.scalars(select(ProcessDraft.id)))
            if name == "version_id":
                return list(session.scalars(select(ProcessVersion.id)))
            if name == "user_id":  # not the fuzzer's own accounts: they must stay usable
                own = [*ROLES, EVERYTHING]
                return list(session.scalars(select(User.id).where(User.username.not_in(own))))
        if name == "name":
            return ["breaches", "timeliness", "backlog_by_stage", "workload_by_person"]
        return []

    def _query(self) -> str:
        from urllib.parse import urlencode

        pairs = [(self.random.choice(QUERY_NAMES), self._value(None)) for _ in range(self.random.randint(1, 3))]
        return urlencode(pairs)

    def _value(self, name: str | None) -> str:
        seen = sorted(self.values.get(name, ())) if name else []
        if seen and self.random.random() < 0.6:
            return self.random.choice(seen)
        return self.random.choice(HOSTILE)

    def _body(self, rule, subject: str | None) -> dict:
        headers = {}
        token = self.tokens.get(subject, "")
        if self.random.random() < 0.05:
            token = "forged"
        if rule.endpoint == "process.save_diagram":
            headers["X-CSRF-Token"] = token
            return {"data": self._json_body(), "headers": headers, "content_type": "application/json"}
        names = sorted(self.fields.get(rule.endpoint, ()))
        chosen = [name for name in names if self.random.random() < 0.7]
        data: dict = {name: self._value(name) for name in chosen}
        for _ in range(self.random.randint(0, 2)):  # a field nobody asked for
            data[self.random.choice([*QUERY_NAMES, "x", "incident.title", "handling.outcome"])] = self._value(None)
        data["csrf_token"] = token
        if rule.endpoint == "process.upload":
            data["file"] = (io.BytesIO(self._upload()), self.random.choice(["d.bpmn", "../../x.bpmn", "\u202ex.bpmn"]))
        return {"data": data}

    def _json_body(self) -> str:
        bundled = versions.BUNDLED_DIAGRAM.read_text(encoding="utf-8")
        return self.random.choice(
            [
                json.dumps({"bpmn_xml": bundled, "lock_version": self.random.choice([1, 2, 3, 999])}),
                json.dumps({"bpmn_xml": bundled.replace("初始支持", "初始支持（二）"), "lock_version": 1}),
                json.dumps({"bpmn_xml": self.random.choice(HOSTILE), "lock_version": 1}),
                json.dumps({"bpmn_xml": 5, "lock_version": "1"}),
                json.dumps([1, 2, 3]),
                "[" * 2000 + "]" * 2000,
                '{"bpmn_xml": "\\u0000", "lock_version": 1}',
                '{"bpmn_xml": "\\udc00", "lock_version": 1}',
                "{not json",
                "",
            ]
        )

    def _upload(self) -> bytes:
        bundled = versions.BUNDLED_DIAGRAM.read_bytes()
        return self.random.choice(
            [
                bundled,
                bundled.replace(b'name="initial_support', b'name="x'),
                b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
                b"\x89PNG\r\n\x1a\n\x00\x00",
                b"",
                bundled.replace(b"</bpmn:definitions>", b"<bpmn:textAnnotation/>" * 12_000 + b"</bpmn:definitions>"),
            ]
        )

    def _harvest(self, endpoint: str, page: str, subject: str | None) -> None:
        """The page's forms: for the endpoint each posts to, its field names and the values it offers
        (options, hidden values), for later requests."""
        found = CSRF.search(page)
        if found:
            self.tokens[subject] = found.group(1)
        for attributes, form in FORM.findall(page):
            action = ACTION.search(attributes)
            target = self._endpoint(action.group(1)) if action else endpoint
            if target is None:
                continue
            self.fields[target].update(name for name in NAME.findall(form) if name != "csrf_token")
            for tag in INPUT.findall(form):
                name, value = NAME.search(tag), VALUE.search(tag)
                if name and value and name.group(1) != "csrf_token":
                    self.values[name.group(1)].add(value.group(1))
            for name, options in SELECT.findall(form):
                self.values[name].update(OPTION.findall(options))

    def _endpoint(self, action: str) -> str | None:
        try:
            return self.app.url_map.bind("localhost").match(action.split("?")[0].replace("&amp;", "&"), "POST")[0]
        except Exception:  # a GET form (a filter) or another site
            return None

    # ---------------------------------------------------------------- keeping the subjects signed in

    def _sign_in(self, subject: str | None) -> None:
        client = self.clients[subject]
        page = client.get("/login").get_data(as_text=True)
        self.tokens[subject] = CSRF.search(page).group(1)
        if subject is None:
            return
        form = {"username": subject, "password": PASSWORD, "csrf_token": self.tokens[subject]}
        response = client.post("/login", data=form)
        if response.status_code >= 500:
            self.findings.append(Finding(f"POST /login as {subject}", response.status_code, "signing in failed"))
        found = CSRF.search(client.get("/account/password").get_data(as_text=True))
        if found:
            self.tokens[subject] = found.group(1)

    def _revive(self) -> None:
        """Subjects the fuzzing signed out (a sign-out, their own password changed) sign in again."""
        for subject in SUBJECTS:
            if subject is not None and self.clients[subject].get("/account/password").status_code != 200:
                self._sign_in(subject)


def populate(service: IncidentService, db: Database) -> None:
    """The accounts the fuzzer signs in with (one per role, one with every role), two more the
    administrator's requests may change, and incidents at every stage for the URLs to name."""
    with db.transaction() as session:
        versions.publish_bundled_if_none(session, SYSTEM)
        actors = {role: actor_of(create_user(session, role, PASSWORD, [role], f"{role} user", hash_method=FAST_HASH))
                  for role in ROLES}  # fmt: skip
        create_user(session, EVERYTHING, PASSWORD, list(ROLES), "全部角色", hash_method=FAST_HASH)
        create_user(session, "zhangsan", PASSWORD, ["requester"], "张三", hash_method=FAST_HASH)
        create_user(session, "lisi", PASSWORD, ["first_line"], "李四", hash_method=FAST_HASH)
    desk = Desk(service, db, actors)
    desk.register(registration(complaints=20))  # at initial support
    at_first_line = desk.register(registration(complaints=20))
    desk.complete("service_desk", at_first_line, "initial_support", pass_on("first_line"))
    resolved_one = desk.register(registration("request"))
    desk.complete("service_desk", resolved_one, "initial_support", resolved())
    closed = desk.register(registration("consultation", solved=True))
    del closed
    desk.register(registration(core_business_impact="yes"))  # an emergency
    portal = {"title": "门户提交", "description": "无法登录", "contact": "张三", "source": "portal"}
    service.start(actors["requester"], incident=portal, requester_id=actors["requester"].user_id)


def check_integrity(db: Database) -> list[str]:
    """What a request left half-written, if anything: the invariants of the stored state."""
    problems = []
    cache = versions.ModelCache()
    with db.read() as session:
        verification = verify(session, audit_key(session))
        problems += [f"audit log: {line}" for line in describe(verification)]
        for incident in session.scalars(select(Incident)):
            stored = session.get(IncidentState, incident.id)
            if stored is None:
                problems.append(f"{incident.number} has no engine state")
                continue
            model = cache.get(incident.process_version)
            run = Run.load(model, state.decode(stored.state), operations.Context(utcnow()))
            ready = {task.id for task in run.ready_tasks()}
            rows = {task.id for task in incident.open_tasks}
            if ready != rows:
                problems.append(f"{incident.number}: open-task rows {sorted(rows)} but ready tasks {sorted(ready)}")
        stale = session.execute(select(UserSession.id).join(User).where(User.active.is_(False))).all()
        if stale:
            problems.append(f"{len(stale)} session(s) of deactivated accounts")
        for draft in session.scalars(select(ProcessDraft)):
            json.loads(draft.forms_json)
        if db.is_postgresql:  # the reports cast every audit row to JSONB: one that cannot be breaks them
            session.execute(text("SELECT count(*) FROM audit_events WHERE data::jsonb IS NULL")).scalar()
    return problems


def _excerpt(body: str) -> str:
    """What the error page says (its heading and first paragraph)."""
    found = re.search(r"<h1>([^<]*)</h1>\s*<p>([^<]*)</p>", body)
    return " — ".join(found.groups()) if found else body[:200]


def _short(kwargs: dict) -> str:
    data = kwargs.get("data")
    shown = (
        {k: (v if not isinstance(v, str) or len(v) < 40 else v[:37] + "…") for k, v in data.items()}
        if isinstance(data, dict)
        else str(data)[:80]
    )
    return repr(shown)
