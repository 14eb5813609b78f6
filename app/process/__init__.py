"""Everything a process owner touches: the contract the incident process keeps with the application,
checking a diagram (validation, lint, contract), drafts, published versions, the diff between two
diagrams, and the pages (web.py). It builds the models the engine room (app/engine/) runs; the engine
never imports from here."""

from app.process import models  # noqa: F401 — the drafts table is on the metadata wherever this package is used
