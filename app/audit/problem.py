"""One thing wrong with the audit log, where it is, and how it is stored with a verification's result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.audit.chain import incident_of
from app.messages import Message


@dataclass(frozen=True)
class Problem:
    message: Message
    chain: str | None = None  # None: the checkpoint file
    seq: int | None = None  # position in the chain, when one row is at fault
    event_id: int | None = None  # that row's id, when it exists

    @property
    def incident_id(self) -> int | None:
        return None if self.chain is None else incident_of(self.chain)

    @property
    def reason(self) -> str:
        return str(self.message)

    def as_json(self) -> dict[str, Any]:
        return {"text": self.message.text, "params": dict(self.message.params), "chain": self.chain,
                "seq": self.seq, "event_id": self.event_id}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Problem:
        return cls(Message(data["text"], data["params"]), data["chain"], data["seq"], data["event_id"])
