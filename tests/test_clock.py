"""Tests freeze the clock (the `clock` fixture, freezegun); what the app builds when it is loaded must
not be built inside a frozen clock (tests/conftest.py, `app_loaded_with_the_real_clock`)."""

from __future__ import annotations

from datetime import datetime


def test_the_apis_models_were_built_with_the_real_datetime(clock):
    from app.api import schemas  # the first import here, without the fixture, would happen frozen

    built_with = schemas.TaskOut.model_fields["created_at"].annotation
    assert (built_with.__module__, built_with.__name__) == ("datetime", "datetime")  # not freezegun's FakeDatetime
    answer = schemas.TaskOut.model_validate(
        {"kind": "task", "id": "x", "incident_id": 1, "name": "n", "created_at": datetime.now(), "may_work": True}
    )
    assert answer.created_at == datetime.now()  # the frozen time, validated
