from tests.api.conftest import api, as_role  # noqa: F401 — alarms come through the API; checks are ticked on the pages
