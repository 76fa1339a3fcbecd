"""Changing the founder's system toggles in tests, and putting them back after each one (the database is shared)."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from core.toggles import forget_toggles
from schemas.toggles import SystemToggles
from tests.conftest import founder_headers


def set_toggles(api: TestClient, reason: str = "a test", **values: Any) -> dict[str, Any]:
    answer = api.put("/api/admin/toggles", json={**values, "reason": reason}, headers=founder_headers())
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def toggles_restored(api: TestClient, engine: Engine) -> Iterator[None]:
    """Puts every toggle back to its initial value after the test, in the app's process at once and in the tests'
    own engine (its workers' reads), so no other test meets maintenance mode or AI switched off."""
    yield
    set_toggles(api, "the test is over", **SystemToggles().model_dump())
    forget_toggles(engine)
