"""AutoRecovery's platform schedule follows the founder's toggles: each cycle reads apply mode and its per-cycle limit
at its start (an activity), so a change counts from the next cycle, whatever the schedule's input says."""

import uuid

import pytest
from sqlalchemy import Engine
from temporalio.client import Client, ScheduleActionStartWorkflow

from core.settings import Settings
from domain.toggles import change_toggles
from schemas.recovery import AutoRecoveryInput
from schemas.toggles import SystemTogglesUpdate
from starters.platform_schedules import auto_recovery_schedule
from tests.api.toggling import toggles_restored  # noqa: F401  (the fixture)
from tests.orchestrator.test_auto_recovery import plant, recover

pytestmark = pytest.mark.usefixtures("toggles_restored")


def test_the_platform_schedule_follows_the_toggles(settings: Settings) -> None:
    action = auto_recovery_schedule(settings.model_copy(update={"auto_recovery_apply": True})).action

    assert isinstance(action, ScheduleActionStartWorkflow)
    params = AutoRecoveryInput.model_validate(action.args[0])
    assert params.follow_toggles is True


async def test_a_cycle_takes_apply_mode_and_its_limit_from_the_toggles(
    client: Client, worker_queue: str, engine: Engine
) -> None:
    tenant = str(uuid.uuid4())
    plant(engine, tenant, "HttpTransportError")
    plant(engine, tenant, "HttpTransportError")

    dry = await recover(client, worker_queue, tenant_id=tenant, apply=True, follow_toggles=True)
    change_toggles(engine, SystemTogglesUpdate(auto_recovery_apply=True, auto_recovery_max_redrives=0, reason="r"), "t")
    applying_none = await recover(client, worker_queue, tenant_id=tenant, follow_toggles=True)
    change_toggles(engine, SystemTogglesUpdate(auto_recovery_max_redrives=1, reason="one at a time"), "t")
    applying_one = await recover(client, worker_queue, tenant_id=tenant, follow_toggles=True)
    given = await recover(client, worker_queue, tenant_id=tenant, apply=False)

    assert (dry.assessed, dry.auto_applicable) == (2, 0)  # the toggle (off) wins over the input's apply
    assert (applying_none.auto_applicable, applying_none.redriven, applying_none.redrive_errors) == (2, [], [])
    attempted = len(applying_one.redriven) + len(applying_one.redrive_errors) + len(applying_one.refused)
    assert (applying_one.auto_applicable, attempted) == (2, 1)
    assert given.auto_applicable == 0  # without follow_toggles the input's values hold
