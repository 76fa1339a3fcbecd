"""Usage a run reports itself, and the admission of a run the API did not start: a schedule's run passes
the same gate as an API start (core/admission.py, rules/admission.py) as its first step."""

import asyncio
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import DataError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.admission import admit_tenant, release_run
from core.metering import add_usage
from rules.admission import concurrency_refusal
from rules.usage import ai_credits, period_of
from schemas.runs import AdmissionDecision, ScheduledAdmission
from schemas.usage import Metric, UsageRecord


class RunCounter(Protocol):
    """Counts a tenant's runs in flight; `starters.runs.TemporalRunControl` is the real one."""

    async def count_running_runs(self, tenant_id: str, excluding: str | None = None) -> int: ...


class UsageActivities:
    def __init__(self, engine: Engine, runs: RunCounter | None = None) -> None:
        self._engine, self._runs = engine, runs

    @activity.defn(name="record_usage")
    def record_usage(self, record: UsageRecord) -> None:
        """Adds a run's own usage to its tenant's counters in one transaction."""
        period = period_of(datetime.now(UTC))
        amounts: dict[Metric, int] = {
            "runs": record.runs,
            "steps": record.steps,
            "ai_credits": ai_credits(record.ai_tokens),
        }
        try:
            with self._engine.begin() as connection:
                for metric, amount in amounts.items():
                    if amount:
                        add_usage(connection, record.tenant_id, period, metric, amount)
        except DataError as err:  # a value the columns refuse will be refused on every retry
            raise ApplicationError(f"usage not recorded: {err.orig}", type="UsageRejected", non_retryable=True) from err
        activity.logger.info("usage recorded", extra={"run_id": record.run_id, **dict(amounts.items())})

    @activity.defn(name="admit_scheduled_run")
    async def admit_scheduled_run(self, request: ScheduledAdmission) -> AdmissionDecision:
        """Admits a schedule's run as the API admits a start: the tenant active, AI not paused for a run that
        uses it, the plan's limits (the run is reserved, i.e. counted, here) and the concurrency cap. A refused
        run is counted nowhere."""
        gate = await asyncio.to_thread(admit_tenant, self._engine, request.tenant_id, request.uses_ai)
        refusal = gate.refusal
        if refusal is None and gate.max_concurrent_runs is not None:
            if self._runs is None:
                raise RuntimeError("UsageActivities needs a run counter to check the concurrency cap")
            running = await self._runs.count_running_runs(request.tenant_id, excluding=request.workflow_id)
            refusal = concurrency_refusal(gate.max_concurrent_runs, running)
            if refusal is not None and gate.reserved_in is not None:
                await asyncio.to_thread(release_run, self._engine, request.tenant_id, gate.reserved_in)
        activity.logger.info(
            "scheduled run admitted" if refusal is None else "scheduled run refused",
            extra={"run_id": request.run_id, "code": refusal.code if refusal else None},
        )
        return AdmissionDecision(refusal=refusal, launch_stage=None if refusal else gate.launch_stage)
