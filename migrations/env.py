"""Alembic environment: the URL comes from the application (app/migrate.py), the models from app.models."""

from alembic import context
from sqlalchemy import create_engine

import app.process  # noqa: F401 — and the process owners' tables
from app import models  # noqa: F401 — registers the tables on the metadata
from app.alarms import models as alarm_models  # noqa: F401 — the alarms received
from app.api import models as api_models  # noqa: F401 — and the API's tokens
from app.attachments import models as attachment_models  # noqa: F401
from app.comments import models as comment_models  # noqa: F401
from app.db import Base
from app.links import models as link_models  # noqa: F401
from app.notifications import models as notification_models  # noqa: F401
from app.reports import models as report_models  # noqa: F401
from app.search import models as search_models  # noqa: F401

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
