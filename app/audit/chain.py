"""What a row's HMAC covers, which chain a row belongs to, and the key that signs them."""

from __future__ import annotations

import hmac
import json
import zlib
from datetime import UTC
from typing import Any

GENESIS = "0" * 64  # the "previous hash" of a chain's first row

_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)

# What a row's HMAC covers, in this order (its own `hash` and its global `id` aside: ids are only
# the order rows were written in across chains, and verification checks they rise along a chain).
HASHED_FIELDS = (
    "chain",
    "seq",
    "prev_hash",
    "incident_id",
    "at",
    "actor_id",
    "actor_name",
    "actor_role",
    "kind",
    "task_id",
    "task_name",
    "data",
    "request_id",
)

# Rows of no incident go to a small fixed set of chains by what they record, so a sign-in never
# waits for a draft save.
_CHAINS = {
    "accounts": (
        "signed_in",
        "signed_out",
        "sign_in_failed",
        "password_changed",
        "password_reset",
        "user_created",
        "user_updated",
    ),  # fmt: skip
    "process": ("version_published", "draft_created", "draft_diagram_saved", "draft_forms_saved", "draft_discarded"),
}
_CHAIN_OF_KIND = {kind: chain for chain, kinds in _CHAINS.items() for kind in kinds}
OTHER_CHAIN = "system"
INCIDENT_PREFIX = "incident:"
_LOCK_SPACE = 0x41554454  # "AUDT": the first key of PostgreSQL's two-key advisory locks, the audit's own


def canonical_json(data: Any) -> str:
    return _CANONICAL.encode(data)


def chain_of(incident_id: int | None, kind: str) -> str:
    if incident_id is not None:
        return incident_chain(incident_id)
    return _CHAIN_OF_KIND.get(kind, OTHER_CHAIN)


def incident_chain(incident_id: int) -> str:
    return f"{INCIDENT_PREFIX}{incident_id}"


def incident_of(chain: str) -> int | None:
    return int(chain.removeprefix(INCIDENT_PREFIX)) if chain.startswith(INCIDENT_PREFIX) else None


def lock_key(chain: str) -> dict[str, int]:
    """The advisory lock of one chain (a collision only makes two chains share a lock)."""
    return {"space": _LOCK_SPACE, "key": zlib.crc32(chain.encode()) - 2**31}


def mac(key: bytes, values: tuple[Any, ...] | list[Any]) -> str:
    """HMAC-SHA256 of the values of `HASHED_FIELDS` as canonical JSON (`at` as ISO 8601 text)."""
    listed = list(values)
    at = listed[4]
    listed[4] = at if isinstance(at, str) else at.astimezone(UTC).isoformat()
    return hmac.digest(key, _CANONICAL.encode(listed).encode(), "sha256").hex()


def row_mac(key: bytes, event: Any) -> str:
    return mac(key, [getattr(event, name) for name in HASHED_FIELDS])


def sign(key: bytes, document: dict[str, Any]) -> str:
    """HMAC-SHA256 of a JSON document (a checkpoint without its `mac`)."""
    return hmac.digest(key, canonical_json(document).encode(), "sha256").hex()
