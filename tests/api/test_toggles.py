"""The founder's system toggles on the JSON API: stored, validated, audited (who, when, why, old and new value),
followed by every process within seconds, and nobody else's business (404)."""

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.db import create_db_engine, migrate
from core.settings import Settings
from core.toggles import CACHE_S, read_toggles, use_initial_toggles
from domain.toggles import ACTION, change_toggles
from schemas.tables import AuditEntry
from schemas.toggles import SystemTogglesUpdate
from tests.api.tenancy import new_tenant
from tests.api.toggling import set_toggles, toggles_restored  # noqa: F401  (the fixture)
from tests.conftest import founder_headers

pytestmark = pytest.mark.usefixtures("toggles_restored")


def state(view: dict, name: str) -> dict:
    return next(s for s in view["states"] if s["name"] == name)


def test_a_change_is_stored_with_who_when_and_why_and_audited_with_old_and_new_value(
    api: TestClient, engine: Engine
) -> None:
    before = datetime.now(UTC)

    view = set_toggles(api, "database upgrade", maintenance=True, maintenance_message="Back at 10:00 UTC")

    assert view["toggles"]["maintenance"] is True
    assert view["toggles"]["maintenance_message"] == "Back at 10:00 UTC"
    maintenance = state(view, "maintenance")
    assert (maintenance["value"], maintenance["changed_by"], maintenance["reason"]) == (
        True,
        "founder",
        "database upgrade",
    )
    assert datetime.fromisoformat(maintenance["changed_at"]) >= before
    assert state(view, "new_signups")["changed_at"] is None or state(view, "new_signups")["value"] is True
    latest = {(c["name"], c["old"], c["new"], c["reason"]) for c in view["history"][:2]}
    assert latest == {
        ("maintenance", False, True, "database upgrade"),
        ("maintenance_message", None, "Back at 10:00 UTC", "database upgrade"),
    }
    with Session(engine) as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == ACTION).order_by(col(AuditEntry.at).desc()).limit(2)
        ).all()
    assert {e.detail["toggle"] for e in entry} == {"maintenance", "maintenance_message"}
    assert all(e.actor == "founder" and e.tenant_id is None and e.at >= before for e in entry)
    assert api.get("/api/admin/toggles", headers=founder_headers()).json()["toggles"]["maintenance"] is True


def test_an_unchanged_value_writes_nothing(api: TestClient) -> None:
    first = set_toggles(api, "first", ai_features=False)

    again = set_toggles(api, "second", ai_features=False)

    assert again["history"][0] == first["history"][0]
    assert state(again, "ai_features")["reason"] == "first"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"maintenance": True}, "body.reason"),
        ({"maintenance": True, "reason": "   "}, "body.reason"),
        ({"launch_stage": "beta", "reason": "r"}, "body.launch_stage"),
        ({"auto_recovery_max_redrives": -1, "reason": "r"}, "body.auto_recovery_max_redrives"),
        ({"auto_recovery_max_redrives": 1001, "reason": "r"}, "body.auto_recovery_max_redrives"),
        ({"maintenance": None, "reason": "r"}, "body.maintenance"),
        ({"maintenance_message": "x" * 501, "reason": "r"}, "body.maintenance_message"),
        ({"reason": "r" * 501, "ai_features": False}, "body.reason"),
        ({"debug": True, "reason": "r"}, "body.debug"),
    ],
)
def test_a_bad_change_answers_422_with_the_field_and_changes_nothing(api: TestClient, body: dict, field: str) -> None:
    before = api.get("/api/admin/toggles", headers=founder_headers()).json()

    answer = api.put("/api/admin/toggles", json=body, headers=founder_headers())

    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field
    assert api.get("/api/admin/toggles", headers=founder_headers()).json() == before


def test_the_toggles_do_not_exist_for_a_tenant(api: TestClient) -> None:
    tenant = new_tenant(api)

    for headers in (tenant.admin, tenant.member):
        assert api.get("/api/admin/toggles", headers=headers).status_code == 404
        changed = api.put("/api/admin/toggles", json={"maintenance": True, "reason": "x"}, headers=headers)
        assert changed.status_code == 404 and changed.json()["code"] == "not_found"

    assert api.get("/api/admin/toggles", headers=founder_headers()).json()["toggles"]["maintenance"] is False
    assert api.get("/api/admin/toggles").status_code == 401


def test_another_process_follows_a_change_within_seconds(api: TestClient, settings: Settings) -> None:
    other = create_db_engine(settings.database_url)  # as another API or worker process reads
    try:
        assert read_toggles(other).new_signups is True

        set_toggles(api, "closing sign-ups", new_signups=False)
        changed = time.monotonic()
        while read_toggles(other).new_signups:
            assert time.monotonic() - changed < CACHE_S + 1, "the change was not followed"
            time.sleep(0.05)
    finally:
        other.dispose()


def test_settings_give_the_initial_values_until_a_founder_changes_one(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate(url)
    fresh = create_db_engine(url)
    try:
        use_initial_toggles(fresh, settings.model_copy(update={"launch_stage": "pre-launch", "new_signups": False}))
        initial = read_toggles(fresh)

        change_toggles(fresh, SystemTogglesUpdate(launch_stage="post-launch", reason="we launched"), "founder")

        assert (initial.launch_stage, initial.new_signups, initial.ai_features) == ("pre-launch", False, True)
        assert (read_toggles(fresh).launch_stage, read_toggles(fresh).new_signups) == ("post-launch", False)
    finally:
        fresh.dispose()
