"""Tenant schedules: run a definition on a cron expression or an interval, pause, change, trigger, delete."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import CallerDep, CurrentTenant, EngineDep, OwnedSchedule, SettingsDep, TemporalDep
from domain import schedules
from schemas.schedules import ScheduleCreate, SchedulePublic, ScheduleTriggered, ScheduleUpdate
from starters.schedules import MAX_LISTED, public_schedule

router = APIRouter(prefix="/api", tags=["schedules"])
Limit = Annotated[int, Query(ge=1, le=MAX_LISTED)]


@router.post("/workflows/{workflow_id}/schedules", status_code=status.HTTP_201_CREATED)
async def create_schedule(
    workflow_id: str,
    body: ScheduleCreate,
    tenant: CurrentTenant,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> SchedulePublic:
    """Run the latest version on a cron expression or every `interval_s` seconds, in `timezone`."""
    return await schedules.create_schedule(engine, temporal, settings, workflow_id, tenant.tenant_id, body)


@router.get("/workflows/{workflow_id}/schedules")
async def list_workflow_schedules(
    workflow_id: str, caller: CallerDep, engine: EngineDep, temporal: TemporalDep, limit: Limit = 50
) -> list[SchedulePublic]:
    """The schedules of one definition."""
    return await schedules.list_definition_schedules(engine, temporal, caller.tenant_id, workflow_id, limit)


@router.get("/schedules")
async def list_schedules(caller: CallerDep, temporal: TemporalDep, limit: Limit = 50) -> list[SchedulePublic]:
    """The caller's schedules, newest first; the founder sees every tenant's."""
    return await schedules.list_schedules(temporal, caller.tenant_id, limit)


@router.get("/schedules/{schedule_id}")
async def get_schedule(schedule: OwnedSchedule) -> SchedulePublic:
    """A schedule with its next three fire times and its recent runs."""
    return await public_schedule(schedule)


@router.patch("/schedules/{schedule_id}")
async def update_schedule(
    schedule_id: str, body: ScheduleUpdate, tenant: CurrentTenant, engine: EngineDep, temporal: TemporalDep
) -> SchedulePublic:
    """Pause or resume (with a note), or change the timing, zone, input or overlap policy."""
    return await schedules.change_schedule(engine, temporal, schedule_id, tenant.tenant_id, body)


@router.delete("/schedules/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_schedule(tenant: CurrentTenant, schedule: OwnedSchedule, temporal: TemporalDep) -> None:
    """Stop and remove a schedule; runs it already started go on."""
    await schedules.delete_schedule(temporal, schedule.id)


@router.post("/schedules/{schedule_id}/trigger", status_code=status.HTTP_202_ACCEPTED)
async def trigger_schedule(
    tenant: CurrentTenant, schedule: OwnedSchedule, engine: EngineDep, temporal: TemporalDep
) -> ScheduleTriggered:
    """Fire once now, even while paused, answering the `run_id` it started; the overlap policy still applies to
    a run in progress (then `run_id` is null)."""
    return await schedules.trigger_schedule(engine, temporal, schedule, tenant.tenant_id)
