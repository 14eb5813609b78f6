"""The page tests of app/process/web.py sign in with the web tests' clients."""

from tests.web.conftest import as_role, web  # noqa: F401 — fixtures
