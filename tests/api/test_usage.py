"""Usage through the API: the runs limit at its boundary, atomic reservations, metered runs and API calls."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from activities.usage import add_usage
from api.errors import ApiError
from api.main import create_app
from api.usage import reserve_run
from core.settings import Settings
from schemas.usage import PLAN_LIMITS, period_end, period_of
from tests.api.tenancy import new_tenant, new_workflow
from tests.api.waiting import finished, poll_run
from tests.conftest import founder_headers

DONE = {"id": "done", "type": "log", "message": "done"}


def usage(api: TestClient, headers: dict[str, str], **params: str) -> dict:
    answer = api.get("/api/usage", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_run_past_the_monthly_limit_answers_429(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, plan="free")
    workflow_id = new_workflow(api, tenant, DONE)
    limit, period = PLAN_LIMITS["free"]["runs"], period_of(datetime.now(UTC))
    with engine.begin() as connection:
        add_usage(connection, tenant.id, period, "runs", limit - 1)

    last = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member)
    refused = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member)

    assert last.status_code == 202, last.text
    assert refused.status_code == 429
    assert refused.json()["code"] == "usage_limit_reached"
    assert {k: refused.json()[k] for k in ("metric", "limit", "used")} == {"metric": "runs", "limit": limit, "used": limit}
    assert refused.json()["resets_at"] == period_end(period).isoformat()
    assert usage(api, tenant.member)["metrics"]["runs"] == {"used": limit, "limit": limit}
    poll_run(api, last.json()["run_id"], tenant.member, finished)


def test_200_concurrent_reservations_start_exactly_the_limit(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, plan="starter")
    limits = {**PLAN_LIMITS, "starter": {**PLAN_LIMITS["starter"], "runs": 150}}

    def reserve(_: int) -> bool:
        try:
            reserve_run(engine, tenant.id, limits)
        except ApiError as err:
            assert err.code == "usage_limit_reached"
            return False
        return True

    with ThreadPoolExecutor(max_workers=50) as pool:
        started = sum(pool.map(reserve, range(200)))

    assert started == 150
    assert usage(api, tenant.admin)["metrics"]["runs"]["used"] == 150


def test_api_calls_are_counted_and_flushed_at_shutdown(settings: Settings, api: TestClient) -> None:
    quiet = settings.model_copy(update={"api_embedded_worker": False})

    with TestClient(create_app(quiet)) as other:
        tenant = new_tenant(other)  # the founder's calls are not metered; the admin's key request is
        for _ in range(3):
            assert other.get("/api/workflows", headers=tenant.member).status_code == 200
        assert other.get("/api/workflows", headers={"Authorization": "Bearer nope"}).status_code == 401

    assert usage(api, founder_headers(), tenant_id=tenant.id)["metrics"]["api_calls"]["used"] == 4


def test_usage_is_walled_off_between_tenants(api: TestClient) -> None:
    mine, theirs = new_tenant(api, plan="pro"), new_tenant(api)

    foreign = api.get("/api/usage", headers=mine.admin, params={"tenant_id": theirs.id})
    founder_view = usage(api, founder_headers(), tenant_id=mine.id)
    unnamed = api.get("/api/usage", headers=founder_headers())

    assert (foreign.status_code, foreign.json()["code"]) == (404, "tenant_not_found")
    assert (founder_view["tenant_id"], founder_view["plan"]) == (mine.id, "pro")
    assert founder_view["metrics"]["runs"]["limit"] == PLAN_LIMITS["pro"]["runs"]
    assert (unnamed.status_code, unnamed.json()["field"]) == (422, "tenant_id")
