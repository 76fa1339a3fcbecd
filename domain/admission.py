"""What a run start must pass before Temporal sees it: an active tenant, its own definition, a valid
input, the cost autopilot's throttle and the plan's monthly limits. The decisions are rules/admission.py and
the reservation core/admission.py, which the worker's admission of schedule-fired runs and AutoRecovery share.

Where the plan has limits the run is reserved before the start: increment, then compare the value the
database answered, so concurrent starts each see a distinct value and at most `limit` pass. The
reservation happens in the thread hop that reads the tenant and definition (one hop per start) and
is given back when nothing new started (a repeated idempotency key, an outage). Unlimited
plans write nothing on the start path: their runs are counted in the per-process UsageBuffer."""

import json
from typing import Any, Literal

import structlog
from anyio import to_thread
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowHandle

from core.admission import admit_tenant, exhausted, is_limited, release_run, reserve_run
from core.errors import ApiError
from core.metering import UsageBuffer
from core.settings import Settings
from core.toggles import read_toggles
from domain.definitions import parsed_version, tenant_definition
from language.input_schema import cached_input_validator
from language.steps import WorkflowDefinition
from rules.admission import ai_paused_refusal, concurrency_refusal, system_refusal, tenant_refusal, uses_ai
from rules.usage import PLAN_LIMITS, limits_for
from schemas.i18n import tr
from schemas.runs import Refusal, RunInput
from schemas.tables import Tenant
from schemas.toggles import LaunchStage
from schemas.usage import Metric
from starters.runs import count_running_runs, new_run_id, start_run, started_now

MAX_INPUT_BYTES = 256 * 1024  # a run's input travels in its Temporal payload (capped at 2 MiB)
Limits = dict[str, dict[Metric, int | None]]


class Admission(BaseModel):
    tenant_id: str
    definition_id: str
    version: int
    definition: WorkflowDefinition
    reserved_in: str | None = None
    """The period whose runs counter holds this start's reservation; None when nothing was reserved."""
    max_concurrent_runs: int | None = None
    ai_paused: bool = False
    launch_stage: LaunchStage | None = None
    """The launch stage, read once at admission; the run carries it (schemas/runs.py RunInput)."""


async def start_admitted(
    engine: Engine,
    temporal: Client,
    settings: Settings,
    usage: UsageBuffer,
    workflow_id: str,
    tenant_id: str,
    payload: dict[str, Any],
    trigger: Literal["api", "webhook"],
    idempotency_key: str | None,
) -> tuple[WorkflowHandle, RunInput]:
    """Admits the start, then starts the run of the latest version with `payload` as its input; the start
    counts once, and only if it started a run. The same idempotency key finds the run it started before:
    the caller compares that run's request with `same_request`."""
    admitted = await to_thread.run_sync(admit, engine, workflow_id, tenant_id, payload)
    started = False
    try:
        await check_throttle(temporal, admitted)
        params = RunInput(
            run_id=new_run_id(tenant_id, admitted.definition_id, idempotency_key),
            tenant_id=tenant_id,
            definition_id=admitted.definition_id,
            version=admitted.version,
            definition=admitted.definition.model_dump(mode="json"),
            input=payload,
            trigger=trigger,
            retry_defaults=settings.retry_defaults(),
            closing_status_upsert=False,
            launch_stage=admitted.launch_stage,
        )
        handle = await start_run(temporal, params, settings.task_queue, eager=settings.api_embedded_worker)
        started = started_now(handle)
    finally:
        if admitted.reserved_in is not None and not started:
            await to_thread.run_sync(release, engine, tenant_id, admitted.reserved_in)
    if started and admitted.reserved_in is None:
        usage.add(tenant_id, "runs")
    return handle, params


def admit(
    engine: Engine, workflow_id: str, tenant_id: str, payload: dict[str, Any], limits: Limits = PLAN_LIMITS
) -> Admission:
    """The tenant's latest definition version, with the run reserved where the plan has limits."""
    with Session(engine, expire_on_commit=False) as session:
        tenant = active_tenant(session, tenant_id)
        row = tenant_definition(session, workflow_id, tenant_id)
    # Parsed outside that session: holding one connection while asking the pool for another deadlocks
    # once every pooled connection is held by a start waiting for a second one.
    definition = parsed_version(engine, row.id, row.latest_version)
    check_system(engine, definition)
    check_input(definition, payload)
    admitted = Admission(
        tenant_id=tenant_id,
        definition_id=row.id,
        version=row.latest_version,
        definition=definition,
        max_concurrent_runs=tenant.max_concurrent_runs,
        ai_paused=tenant.ai_paused,
        launch_stage=read_toggles(engine).launch_stage,
    )
    plan = limits_for(tenant.plan, limits)
    if is_limited(plan):
        with Session(engine) as session:
            period, refusal = reserve_run(session, tenant_id, plan)
            if refusal is not None:
                raise refused(refusal)
            admitted.reserved_in = period
            session.commit()
    return admitted


def check_system(engine: Engine, definition: WorkflowDefinition) -> None:
    """503 while the founder has the platform in maintenance, or AI features off and `definition` uses AI."""
    refusal = system_refusal(read_toggles(engine), uses_ai(definition))
    if refusal is not None:
        raise refused(refusal)


def release(engine: Engine, tenant_id: str, period: str) -> None:
    """Gives back a reservation whose start did not start a run."""
    release_run(engine, tenant_id, period)


async def check_throttle(temporal: Client, admitted: Admission) -> None:
    """429 while the cost autopilot's throttle holds: no new runs with AI steps while AI is paused, and
    no more running runs than the cap. Unthrottled tenants pass without a call."""
    await _check_throttle(
        temporal, admitted.tenant_id, admitted.ai_paused, uses_ai(admitted.definition), admitted.max_concurrent_runs
    )


async def _check_throttle(temporal: Client, tenant_id: str, ai_paused: bool, ai: bool, cap: int | None) -> None:
    refusal = ai_paused_refusal(ai_paused, ai)
    if refusal is None and cap is not None:
        refusal = concurrency_refusal(cap, await count_running_runs(temporal, tenant_id))
    if refusal is not None:
        raise refused(refusal)


def refused(refusal: Refusal) -> ApiError:
    """A refusal of the admission rules as the error the API answers."""
    message = refusal.text or refusal.message
    return ApiError(refusal.status, refusal.code, message, field=refusal.field, **refusal.extra)


async def check_may_run(engine: Engine, temporal: Client, tenant_id: str, definition: WorkflowDefinition) -> None:
    """Whether the tenant may run `definition` now, reserving nothing: what creating, resuming, changing
    and triggering a schedule pass (403 not active, 429 a limit used up or throttled)."""
    tenant = await to_thread.run_sync(_may_run, engine, tenant_id)
    await _check_throttle(temporal, tenant_id, tenant.ai_paused, uses_ai(definition), tenant.max_concurrent_runs)


def check_active(engine: Engine, tenant_id: str) -> None:
    """403 unless the tenant is active."""
    with Session(engine) as session:
        active_tenant(session, tenant_id)


def _may_run(engine: Engine, tenant_id: str) -> Tenant:
    with Session(engine, expire_on_commit=False) as session:
        tenant = active_tenant(session, tenant_id)
        refusal = exhausted(session, tenant)
    if refusal is not None:
        raise refused(refusal)
    return tenant


async def start_admitted_redrive(
    engine: Engine, temporal: Client, settings: Settings, params: RunInput
) -> WorkflowHandle:
    """Starts a re-drive through the same gate as every start, with the run reserved (or counted) before
    the start and given back when the start started nothing (the failed run was re-driven before)."""
    definition = WorkflowDefinition.model_validate(params.definition)
    gate = await to_thread.run_sync(admit_tenant, engine, params.tenant_id, uses_ai(definition))
    if gate.refusal is not None:
        raise refused(gate.refusal)
    params = params.model_copy(update={"launch_stage": gate.launch_stage})
    started = False
    try:
        if gate.max_concurrent_runs is not None:
            running = await count_running_runs(temporal, params.tenant_id)
            if (refusal := concurrency_refusal(gate.max_concurrent_runs, running)) is not None:
                raise refused(refusal)
        handle = await start_run(temporal, params, settings.task_queue, eager=settings.api_embedded_worker)
        started = started_now(handle)
    finally:
        if gate.reserved_in is not None and not started:
            await to_thread.run_sync(release_run, engine, params.tenant_id, gate.reserved_in)
    return handle


def active_tenant(session: Session, tenant_id: str | None) -> Tenant:
    """The tenant, which must be active to start runs: 403 with the reason otherwise."""
    tenant = session.get(Tenant, tenant_id)
    refusal = tenant_refusal(tenant.status if tenant else None)
    if refusal is not None:
        raise refused(refusal)
    assert tenant is not None  # tenant_refusal refuses a missing tenant
    return tenant


def latest_definition(engine: Engine, workflow_id: str, tenant_id: str | None) -> tuple[str, int, WorkflowDefinition]:
    """The tenant's definition at its latest version (schedules take it without starting a run); 404 for
    another tenant's id, 403 while the tenant is suspended or deleted."""
    with Session(engine, expire_on_commit=False) as session:
        tenant = active_tenant(session, tenant_id)
        row = tenant_definition(session, workflow_id, tenant.id)
    return row.id, row.latest_version, parsed_version(engine, row.id, row.latest_version)


def check_input(definition: WorkflowDefinition, value: dict[str, Any]) -> None:
    """What every start checks: valid text, the size cap and the definition's input_schema."""
    if _encoded_size(value) > MAX_INPUT_BYTES:
        message = tr("input may take at most %(limit)s KiB as JSON", limit=MAX_INPUT_BYTES // 1024)
        raise ApiError(413, "input_too_large", message, field="input")
    if definition.input_schema is None:
        return
    try:
        error = next(iter(cached_input_validator(definition.input_schema).iter_errors(value)), None)
    except Exception as err:  # a stored schema is tenant data: whatever it breaks is the definition's fault
        structlog.get_logger().warning("input schema unusable", error_type=type(err).__name__)
        message = tr(
            "The workflow's input_schema cannot check input; store a new version (%(problem)s)", problem=str(err)[:400]
        )
        raise ApiError(422, "invalid_input_schema", message, field="input_schema") from None
    if error is not None:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        raise ApiError(422, "invalid_input", f"input{path}: {error.message}", field=f"input{path}")


def _encoded_size(value: dict[str, Any]) -> int:
    try:
        return len(json.dumps(value, ensure_ascii=False).encode())
    except UnicodeEncodeError:
        raise ApiError(
            422, "invalid_text", tr("input holds text that is not valid Unicode (a lone surrogate)"), field="input"
        ) from None
