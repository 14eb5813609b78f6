"""Schema migrations (Alembic, scripts in migrations/), run programmatically by `flask db upgrade`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.db import normalize_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str, audit_key: bytes | None = None) -> Config:
    """`audit_key`: for migrations that sign audit rows (the key is never stored in the database)."""
    config = Config()
    config.attributes["audit_key"] = audit_key
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, audit_key: bytes | None = None) -> None:
    command.upgrade(alembic_config(url, audit_key), "head")
