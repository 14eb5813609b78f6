"""Writing notifications: one outbox row per (event, recipient, channel), in the caller's transaction.

The key `event:recipient:channel` is unique, so writing the same event twice (an action retried, a
task seen again) adds nothing: each person hears of each event once per channel. The channels are
the app and those the person's preferences (or their roles' defaults) name and they have an address for.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, event, null, select, union_all
from sqlalchemy.orm import Session, SessionTransaction, lazyload

from app import writes
from app.models import User, UserRole
from app.notifications import preferences
from app.notifications.messages import DEFAULT_LOCALE, locale_of
from app.notifications.models import PENDING, SENT, Notification, Preference

INAPP = "inapp"
EMAIL, SMS, WECOM, DINGTALK = preferences.EXTERNAL
WEBHOOK = "webhook"
CHANNELS = (INAPP, *preferences.EXTERNAL, WEBHOOK)

ADDRESS = {EMAIL: "email", SMS: "mobile", WECOM: "wecom_id", DINGTALK: "dingtalk_id"}  # the User column


def address(user: User, channel: str) -> str | None:
    return getattr(user, ADDRESS[channel]) if channel in ADDRESS else None


def members(session: Session, *roles: str) -> list[User]:
    """The active accounts holding any of `roles`."""
    return accounts(session, _HOLDING, {"roles": list(roles)})


def person(session: Session, user_id: int) -> User | None:
    """One account to notify."""
    found = accounts_by_id(session, [user_id])
    return found[0] if found else None


def accounts_by_id(session: Session, ids: Collection[int]) -> list[User]:
    """The accounts with these ids, with their roles and notification choices (`accounts`): those
    read before in this transaction are not read again."""
    known = session.info.setdefault(_KNOWN, {})
    if missing := set(ids) - known.keys():
        accounts(session, _BY_ID, {"ids": sorted(missing)})
    return [known[user_id][0] for user_id in dict.fromkeys(ids) if user_id in known]


# In a session's `info`: user id → (account, roles, {kind: channels chosen}) of the accounts `accounts`
# read, which `Outbox.flush` then needs no statement for (held here: the session itself keeps only weak
# references, and would read an account again).
_KNOWN = "notification_recipients"


def accounts(session: Session, query: Select, params: Mapping[str, Any]) -> list[User]:
    """The accounts `query` (`_BY_ID`, `_HOLDING`) finds with `params`, by id, with their roles and
    notification choices in the same statement (kept for `Outbox.flush`, which reads them for every
    recipient): a role row has no channels (NULL), a choice row always has some ("" = in the app only)."""
    known = session.info.setdefault(_KNOWN, {})
    found: dict[int, User] = {}
    for user, name, channels in session.execute(query, params):
        if user.id not in found:
            found[user.id] = user
            known[user.id] = (user, set(), {})
        if name is not None:
            _user, roles, chosen = known[user.id]
            if channels is None:
                roles.add(name)
            else:
                chosen[name] = channels
    return list(found.values())


def roles_of(session: Session, user: User) -> frozenset[str]:
    """The roles of an account `accounts` read (without reading its role rows again)."""
    return frozenset(session.info[_KNOWN][user.id][1])


_EXTRA = union_all(
    select(UserRole.user_id, UserRole.role.label("name"), null().label("channels")),
    select(Preference.user_id, Preference.kind, Preference.channels),
).subquery("extra")


def _accounts_where(*where: ColumnElement[bool]) -> Select:
    return (
        select(User, _EXTRA.c.name, _EXTRA.c.channels)
        .outerjoin(_EXTRA, _EXTRA.c.user_id == User.id)
        .where(*where)
        .options(lazyload(User.role_rows))  # the roles come as rows of their own, above
        .order_by(User.id)
    )


# Built once (an action reads its recipients with one of them): building a statement and working out its
# cache key cost more CPU than running it.
_BY_ID = _accounts_where(User.id.in_(bindparam("ids", expanding=True)))
_HOLDING = _accounts_where(
    User.active.is_(True),
    User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(bindparam("roles", expanding=True)))),
)


@event.listens_for(Session, "after_transaction_end")
def _forget_known(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # roles and choices may change between transactions
        session.info.pop(_KNOWN, None)


@dataclass(frozen=True)
class _Wanted:
    event: str
    kind: str
    user: User
    params: Mapping[str, Any]
    incident_id: int | None


class Outbox:
    """Collects the notifications of one action; `flush` writes their rows."""

    def __init__(self, session: Session, now: datetime):
        self.session, self.now = session, now
        self.wanted: list[_Wanted] = []
        self.extra: list[dict[str, Any]] = []
        self.reached: set[int] = set()  # people this action already tells something

    def add(
        self,
        event: str,
        kind: str,
        recipients: Iterable[User],
        params: Mapping[str, Any],
        *,
        incident_id: int | None = None,
        skip: int | None = None,
    ) -> None:
        if kind in preferences.WEBHOOK_KINDS:  # the generic webhook hears of the event once, whoever else does
            self.extra.append(self._row(f"{event}:webhook", event, kind, WEBHOOK, None, WEBHOOK, None, DEFAULT_LOCALE,
                                        params, incident_id))  # fmt: skip
        for user in recipients:
            if user.id != skip and user.active:
                self.reached.add(user.id)
                self.wanted.append(_Wanted(event, kind, user, params, incident_id))

    def add_address(
        self, event: str, kind: str, channel: str, to: str, name: str, params: Mapping[str, Any], *,
        incident_id: int | None = None, locale: str = DEFAULT_LOCALE,
    ) -> None:  # fmt: skip
        """A notification to an address that is no account (a fault notice's listed recipient, a webhook)."""
        self.extra.append(
            self._row(f"{event}:{to}:{channel}", event, kind, channel, None, name, to, locale, params, incident_id)
        )

    def add_chosen(
        self, event: str, kind: str, user: User, channels: Iterable[str], params: Mapping[str, Any], *,
        incident_id: int | None,
    ) -> None:  # fmt: skip
        """One person in the app and on the given channels they have an address for, whatever their
        preferences (the channels a fault notice chose; a fallback)."""
        self.reached.add(user.id)
        for channel in (INAPP, *channels):
            to = address(user, channel)
            if channel == INAPP or to:
                self.extra.append(
                    self._row(
                        f"{event}:{user.id}:{channel}",
                        event,
                        kind,
                        channel,
                        user.id,
                        user.display_name,
                        to,
                        locale_of(user.locale),
                        params,
                        incident_id,
                    )  # fmt: skip
                )

    def flush(self) -> None:
        """One INSERT … ON CONFLICT (key) DO NOTHING: a key written before (or by a concurrent action) stays."""
        rows = {row["key"]: row for row in self._rows() + self.extra}
        self.wanted, self.extra = [], []
        if not rows:
            return
        # One statement, with the action's other writes when they are batched (app.writes): the ORM's
        # bulk insert split the rows by which columns are null, a round trip each, and nothing reads
        # them back in this transaction.
        writes.insert_rows(self.session, Notification.__table__, list(rows.values()), skip_conflicts_on=("key",))

    def _rows(self) -> list[dict[str, Any]]:
        if not self.wanted:
            return []
        accounts_by_id(self.session, {wanted.user.id for wanted in self.wanted})  # with their roles and choices
        known = self.session.info[_KNOWN]
        rows = []
        for wanted in self.wanted:
            user = wanted.user
            _user, roles, chosen = known.get(user.id, (user, (), {}))
            external = preferences.channels(wanted.kind, roles, chosen.get(wanted.kind))
            for channel in (INAPP, *external):
                to = address(user, channel)
                if channel != INAPP and not to:
                    continue
                rows.append(
                    self._row(
                        f"{wanted.event}:{user.id}:{channel}",
                        wanted.event,
                        wanted.kind,
                        channel,
                        user.id,
                        user.display_name,
                        to,
                        locale_of(user.locale),
                        wanted.params,
                        wanted.incident_id,
                    )  # fmt: skip
                )
        return rows

    def _row(
        self, key: str, event: str, kind: str, channel: str, recipient_id: int | None, name: str, to: str | None,
        locale: str, params: Mapping[str, Any], incident_id: int | None,
    ) -> dict[str, Any]:  # fmt: skip
        inapp = channel == INAPP
        return dict(
            key=key,
            event=event,
            kind=kind,
            incident_id=incident_id,
            recipient_id=recipient_id,
            recipient_name=name,
            channel=channel,
            address=to,
            locale=locale,
            params=json.dumps({**params, "name": name}, ensure_ascii=False, sort_keys=True),
            status=SENT if inapp else PENDING,  # in the app, written is delivered
            attempts=0,
            next_attempt_at=self.now,
            lease_until=None,
            created_at=self.now,
            sent_at=self.now if inapp else None,
            last_error=None,
            read_at=None,
        )
