"""The API's contract, checked by tools we did not write: openapi-spec-validator validates the
document, and Schemathesis drives the live app (a real HTTP server, SQLite and PostgreSQL) with
requests generated from it — no 5xx, every answer documented and matching its schema."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import make_token
from tests.driver import Desk, registration

EXAMPLES = 10  # per operation: a bounded budget for the suite (docs/api.md)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def live_api(app, live_server):
    """The app on a free local port (real time: tokens and the limiter see the clock move)."""
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    return live_server


def test_the_document_is_valid_openapi_3_1(live_api):
    document = requests.get(f"{live_api}/api/v1/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.1")
    validate(document)
    assert {"/api/v1/incidents", "/api/v1/tasks", "/api/v1/reports/{name}"} <= set(document["paths"])
    errors = document["paths"]["/api/v1/incidents"]["post"]["responses"]["422"]["content"]
    assert list(errors) == ["application/problem+json"]
    # my tasks carry the confirm-recovery checks beside the process's tasks, told apart by `kind`
    schemas = document["components"]["schemas"]
    listed = next(schema for name, schema in schemas.items() if name.startswith("TaskList"))
    task = schemas[listed["properties"]["items"]["items"]["$ref"].rpartition("/")[2]]
    assert task["properties"]["kind"]["enum"] == ["task", "recovery_check"] and "kind" in task["required"]
    confirm = document["paths"]["/api/v1/recovery-checks/{check_id}/confirm"]["post"]
    assert {"200", "403", "404", "409", "422"} <= set(confirm["responses"])


def test_the_browsable_page_is_served_from_here(live_api):
    page = requests.get(f"{live_api}/api/v1/docs", timeout=10).text
    assert "vendor/swagger-ui/swagger-ui-bundle.js" in page and "//" not in page.split("<body>")[0].replace("://", "")
    assert requests.get(f"{live_api}/static/vendor/swagger-ui/swagger-ui-bundle.js", timeout=10).status_code == 200


@pytest.mark.long
@pytest.mark.parametrize("role", ["service_desk", "requester"])
def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(live_api, app, db, actors, role):
    desk = Desk(app.extensions["incidents"], db, actors)
    for _ in range(2):
        desk.register(registration("fault"))
    token = make_token(db, actors, role)
    schema = schemathesis.openapi.from_url(f"{live_api}/api/v1/openapi.json")
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(base_url=live_api, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

        try:
            run()
        except Exception as error:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
