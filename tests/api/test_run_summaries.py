"""Each run has a human summary in Temporal's UI: the definition's name and version, the trigger and the
tenant's id, in clear (the UI reads it without the codec server), never the tenant's name or the input."""

from fastapi.testclient import TestClient
from temporalio.client import Client

from tests.api.tenancy import new_tenant, new_workflow
from tests.api.waiting import finished, poll_run
from tests.conftest import until

DONE = {"id": "done", "type": "log", "message": "done {{ input.who }}"}
PERSON = "Jane Q. Person"


async def summary_of(client: Client, run_id: str) -> tuple[str | None, str | None, bytes]:
    description = await client.get_workflow_handle(f"run-{run_id}").describe()
    encoding = description.raw_description.execution_config.user_metadata.summary.metadata["encoding"]
    return await description.static_summary(), await description.static_details(), encoding


async def test_a_started_run_is_summarised_by_its_definition_version_and_tenant(
    api: TestClient, client: Client
) -> None:
    tenant = new_tenant(api, name=PERSON)
    workflow_id = new_workflow(api, tenant, DONE)

    run_id = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {"who": PERSON}}, headers=tenant.member)
    summary, details, encoding = await summary_of(client, run_id.json()["run_id"])

    assert summary == f"flow v1 · api · tenant {tenant.id}"
    assert details is not None and workflow_id in details and tenant.id in details
    assert encoding == b"json/plain"  # past the tenant codec: the UI shows it as it is
    assert PERSON not in f"{summary}{details}"


async def test_a_scheduled_run_is_summarised_too(api: TestClient, client: Client) -> None:
    tenant = new_tenant(api, name=PERSON)
    workflow_id = new_workflow(api, tenant, DONE)
    created = api.post(f"/api/workflows/{workflow_id}/schedules", json={"interval_s": 3600}, headers=tenant.member)

    fired = api.post(f"/api/schedules/{created.json()['id']}/trigger", headers=tenant.member).json()
    poll_run(api, fired["run_id"], tenant.member, finished)
    summary, _, encoding = await until(lambda: summary_of(client, fired["run_id"]), lambda found: found[0] is not None)

    assert summary == f"flow v1 · schedule · tenant {tenant.id}"
    assert encoding == b"json/plain"
