from tests.web.conftest import as_role  # noqa: F401 — signed-in clients for the page tests
