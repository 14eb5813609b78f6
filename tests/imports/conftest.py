from tests.web.conftest import as_role  # noqa: F401 — the import is a page of the service desk
