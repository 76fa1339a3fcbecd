"""Watches every tenant's spend rate and throttles a tenant whose rate spikes.

Runs on a platform schedule (every 5 minutes by default) or when the founder asks. Each run samples
the spend of every live tenant; a rate above the floor and above `spike_factor` times the tenant's
trailing average caps the tenant through its `TenantLifecycle` (`throttle` update) until the founder
lifts it. Tenants already throttled are left as they are. The lifecycle audits every throttle.
"""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.cost import CostActivities
    from orchestrator.retries import JOB_RETRY, JOB_TIMEOUT
    from rules.cost import is_spike
    from schemas.cost import CostAutopilotInput, CostAutopilotResult, SpendRate, SpendScan, ThrottleOrder
    from schemas.tenants import Throttle

# Not JOB_TIMEOUT: the throttle is one update, answered once the tenant's lifecycle has stored it (its own
# STORE_TIMEOUT, 30 s); a minute leaves that room for a retry.
THROTTLE_TIMEOUT = timedelta(seconds=60)


@workflow.defn
class CostAutopilot:
    @workflow.run
    async def run(self, params: CostAutopilotInput) -> CostAutopilotResult:
        sampled = await workflow.execute_activity_method(
            CostActivities.sample_spend,
            SpendScan(tenant_ids=params.tenant_ids, trailing_samples=params.trailing_samples),
            start_to_close_timeout=JOB_TIMEOUT,
            retry_policy=JOB_RETRY,
        )
        spikes = [rate for rate in sampled.rates if is_spike(rate, params)]
        throttled: list[str] = []
        for spike in spikes:
            if spike.throttled:
                continue
            order = ThrottleOrder(tenant_id=spike.tenant_id, throttle=_throttle_for(spike, params))
            if await workflow.execute_activity_method(
                CostActivities.throttle_tenant, order, start_to_close_timeout=THROTTLE_TIMEOUT, retry_policy=JOB_RETRY
            ):
                throttled.append(spike.tenant_id)
        if throttled:
            workflow.logger.warning("tenants throttled for spend spikes", extra={"tenant_ids": throttled})
        return CostAutopilotResult(scanned=len(sampled.rates), spikes=spikes, throttled=throttled)


def _throttle_for(spike: SpendRate, params: CostAutopilotInput) -> Throttle:
    rate, trailing = spike.rate_micros_per_hour or 0, spike.trailing_micros_per_hour or 0.0
    multiple = f"{rate / trailing:.1f}x its trailing average" if trailing else "with no spend before"
    return Throttle(
        max_concurrent_runs=params.throttle_max_concurrent_runs,
        ai_paused=True,
        by="cost-autopilot",
        reason=f"spend rate ${rate / 1e6:.2f}/h, {multiple}",
        detail={
            "rate_micros_per_hour": float(rate),
            "trailing_micros_per_hour": trailing,
            "spike_factor": params.spike_factor,
            "floor_micros_per_hour": float(params.floor_micros_per_hour),
        },
    )
