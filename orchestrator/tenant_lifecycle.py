"""Owns one tenant's state for its whole life: active ⇄ suspended, → deleted (restorable during a
grace period), → purged (personal data erased; terminal).

Transitions arrive as the `change` update, whose validator refuses an illegal one with the current
state. The cost autopilot caps a tenant with the `throttle` update; the founder lifts it with
`lift_throttle`; both are mirrored to the row and audited. Every transition is mirrored to the tenant row (the API checks it on each run start) and
pauses or resumes the tenant's schedules (resuming only those it paused); suspending and deleting also
cancel the tenant's runs in flight. A durable timer purges a deleted tenant when the grace period ends.
The history is kept bounded with continue-as-new.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.tenants_store import TenantStoreActivities
    from orchestrator.retries import STORE_RETRY, STORE_TIMEOUT
    from schemas.tenants import (
        LEGAL,
        LifecycleInput,
        RunsCancel,
        SchedulesPause,
        StatusRecord,
        TenantChange,
        TenantState,
        Throttle,
        ThrottleLift,
        ThrottleRecord,
        Transition,
        TransitionName,
    )

PAUSES = {"active": False, "suspended": True, "deleted": True, "purged": True}
# Statuses in which no run of the tenant may go on: the move cancels those in flight.
STOPS_RUNS = frozenset({"suspended", "deleted"})
CANCEL_RUNS_PATCH = "cancel-runs-on-suspend"


@workflow.defn
class TenantLifecycle:
    @workflow.init
    def __init__(self, params: LifecycleInput) -> None:
        # Set here, not in run: an update can arrive with the very first workflow task.
        self._state = params.state
        self._grace = timedelta(seconds=params.grace_period_s)
        self._pending: list[TenantChange] = []
        self._busy = False

    @workflow.run
    async def run(self, params: LifecycleInput) -> TenantState:
        while self._state.status != "purged":
            try:
                await workflow.wait_condition(lambda: bool(self._pending), timeout=self._until_purge())
            except TimeoutError:
                pass  # the grace period ended
            if self._pending:
                await self._apply(self._pending.pop(0))
            elif self._state.status == "deleted":
                await self._move("purge", "timer", "grace period ended")
            if workflow.info().is_continue_as_new_suggested() and not self._pending:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(LifecycleInput(state=self._state, grace_period_s=params.grace_period_s))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    @workflow.update
    async def change(self, request: TenantChange) -> TenantState:
        self._pending.append(request)
        await workflow.wait_condition(lambda: all(r is not request for r in self._pending) and not self._busy)
        return self._state

    @change.validator
    def _legal(self, request: TenantChange) -> None:
        allowed_from, _ = LEGAL[request.name]
        current = self._expected_status()
        if current not in allowed_from:
            raise ApplicationError(
                f"cannot {request.name} a tenant that is {current}", current, type="IllegalTransition"
            )

    @workflow.update
    async def throttle(self, throttle: Throttle) -> TenantState:
        self._state.throttle = throttle.model_copy(update={"since": workflow.now()})
        await self._store(
            TenantStoreActivities.record_throttle,
            ThrottleRecord(
                tenant_id=self._state.tenant_id, throttle=self._state.throttle, by=throttle.by, reason=throttle.reason
            ),
        )
        return self._state

    @throttle.validator
    def _throttleable(self, throttle: Throttle) -> None:
        current = self._expected_status()
        if current not in ("active", "suspended"):
            raise ApplicationError(f"cannot throttle a tenant that is {current}", current, type="IllegalTransition")

    @workflow.update
    async def lift_throttle(self, lift: ThrottleLift) -> TenantState:
        self._state.throttle = None
        await self._store(
            TenantStoreActivities.record_throttle,
            ThrottleRecord(tenant_id=self._state.tenant_id, throttle=None, by=lift.by, reason=lift.reason),
        )
        return self._state

    @lift_throttle.validator
    def _throttled(self, lift: ThrottleLift) -> None:
        if self._state.throttle is None:
            raise ApplicationError("this tenant is not throttled", self._state.status, type="NotThrottled")

    @workflow.query
    def state(self) -> TenantState:
        return self._state

    async def _apply(self, request: TenantChange) -> None:
        await self._move(request.name, request.by, request.reason)

    async def _move(self, name: TransitionName, by: str, reason: str | None) -> None:
        self._busy = True
        state = self._state
        target = LEGAL[name][1]
        now = workflow.now()
        state.history.append(
            Transition(name=name, from_status=state.status, to_status=target, at=now, by=by, reason=reason)
        )
        state.status = target
        state.purge_at = now + self._grace if target == "deleted" else None
        await self._store(TenantStoreActivities.record_status, StatusRecord(tenant_id=state.tenant_id, status=target))
        await self._store(
            TenantStoreActivities.pause_schedules,
            SchedulesPause(tenant_id=state.tenant_id, paused=PAUSES[target], note=f"tenant {target}"),
        )
        if target in STOPS_RUNS and workflow.patched(CANCEL_RUNS_PATCH):
            await self._store(
                TenantStoreActivities.cancel_runs, RunsCancel(tenant_id=state.tenant_id, reason=f"tenant {target}")
            )
        if target == "purged":
            await self._store(
                TenantStoreActivities.purge_tenant, StatusRecord(tenant_id=state.tenant_id, status=target)
            )
        self._busy = False

    async def _store(self, activity: Callable[[TenantStoreActivities, Any], object], argument: Any) -> None:
        await workflow.execute_activity_method(
            activity, argument, start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY
        )

    def _expected_status(self) -> str:
        """The status once the changes already accepted have been applied."""
        status = self._state.status
        for queued in self._pending:
            status = LEGAL[queued.name][1]
        return status

    def _until_purge(self) -> timedelta | None:
        state = self._state
        if state.status != "deleted" or state.purge_at is None:
            return None
        return max(state.purge_at - workflow.now(), timedelta(milliseconds=1))
