"""Database engine and transactions (SQLAlchemy 2.0), shared by the web app, the CLI and the timer worker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


def normalize_url(url: str) -> str:
    """postgresql://… (as people write it) means the psycopg 3 driver this project installs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


READ_ONLY = "read_only"  # in the `info` of a session opened by Database.read()


class ReadOnlyViolation(RuntimeError):
    """Code tried to write through a `Database.read()` session."""


@event.listens_for(Session, "before_flush")
def _refuse_flush(session: Session, _context, _instances) -> None:
    if session.info.get(READ_ONLY) and (
        session.new or session.deleted or any(session.is_modified(obj) for obj in session.dirty)
    ):
        raise ReadOnlyViolation("a read session (Database.read) cannot write; use Database.transaction")


@event.listens_for(Session, "do_orm_execute")
def _refuse_writes(state) -> None:
    """A read session never writes: on PostgreSQL it runs without a transaction, so a write would
    be committed at once instead of rolled back when the session closes."""
    if state.session.info.get(READ_ONLY) and (state.is_insert or state.is_update or state.is_delete):
        raise ReadOnlyViolation("a read session (Database.read) cannot write; use Database.transaction")


class Database:
    def __init__(self, url: str, *, echo: bool = False, audit_key: bytes | None = None):
        """`audit_key`: the HMAC key of the audit log (app/audit), kept outside the database; every
        session carries it in `session.info`."""
        url = normalize_url(url)
        self.url = url
        self.engine = _create_engine(url, echo)
        info = {"audit_key": audit_key}
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)
        read_engine = self.engine.execution_options(read_only=True)
        if self.is_postgresql:
            # Each statement of a read sees what was committed before it began, inside a transaction
            # (READ COMMITTED) or not: without one, a page's short reads save a BEGIN and a ROLLBACK
            # (two round trips) each. Nothing can be written by mistake: see `_refuse_writes`.
            read_engine = read_engine.execution_options(isolation_level="AUTOCOMMIT")
        self.read_sessions = sessionmaker(read_engine, expire_on_commit=False, info={**info, READ_ONLY: True})

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: everything is committed together, or nothing is."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (pages, reports): never takes the write lock."""
        session = self.read_sessions()
        try:
            yield session
        finally:
            session.close()  # ends the transaction; loaded objects stay readable

    def dispose(self) -> None:
        self.engine.dispose()


# A pooled connection idle for longer than this is pinged before use (a round trip) — after a
# database restart or a proxy's idle timeout it would fail its first statement. One handed back
# less than this ago is used at once: a page opens several short transactions in a row, and
# pinging before each (pool_pre_ping) was a third of a page's round trips.
PING_AFTER_IDLE_SECONDS = 1.0

# Execution option: this statement must run inside a transaction, also in a read session (see below).
NEEDS_TRANSACTION = "needs_transaction"


def plan_for_the_values(session: Session) -> None:
    """On PostgreSQL, the rest of this session's statements are planned for the values they are given.

    psycopg prepares a statement run five times, and PostgreSQL may then plan it once for any value:
    the reports' aggregates over a period got plans made for no period in particular (12 months at
    100,000 incidents: 620 ms against 210 ms, docs/bench.md). Not for every session: planning each
    time costs the short statements of an action or an inbox more than it saves them."""
    if session.get_bind().dialect.name == "postgresql":
        setting = text("SET LOCAL plan_cache_mode = force_custom_plan")
        session.execute(setting, execution_options={NEEDS_TRANSACTION: True})


def _create_engine(url: str, echo: bool) -> Engine:
    if not url.startswith("sqlite"):
        engine = create_engine(url, echo=echo)
        _ping_when_idle(engine)
        _transaction_for_streaming(engine)
        return engine
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself (below), and enforce foreign keys.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Writers take the write lock at the start: two writers never interleave read-then-write, so
        # the audit hash chain and the optimistic lock see a consistent database on SQLite too.
        read_only = connection.get_execution_options().get("read_only")
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _ping_when_idle(engine: Engine) -> None:
    """pool_pre_ping, for connections that were idle in the pool: a failed ping discards the
    connection and the pool hands out a fresh one (SQLAlchemy's "pessimistic" disconnect handling)."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError("the pooled connection failed its ping") from error


def _transaction_for_streaming(engine: Engine) -> None:
    """A query read in chunks (`yield_per`: a server-side cursor), or a statement marked
    `needs_transaction` (`SET LOCAL`, whose setting must last for the statements after it), needs a
    transaction, also in a read session, which runs without one: the driver begins one for it, and
    the session's end rolls it back."""

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_for_cursor(connection, _cursor, _statement, _parameters, context, _executemany) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        options = context.execution_options if context is not None else {}
        if (options.get("stream_results") or options.get(NEEDS_TRANSACTION)) and dbapi_connection.autocommit:
            dbapi_connection.autocommit = False
