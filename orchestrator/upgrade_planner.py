"""Turns what the platform observed into upgrade plans for the founder, every 6 hours or on demand.

Reads the signals (repeated failures per step, throttled tenants, tenants near their limits, serious
compliance findings, heartbeat checks that keep failing, telemetry anomalies), proposes
a plan for each, refreshes the live plan with the same fingerprint instead of adding a duplicate, and
archives open plans nothing has proposed for a while. Passive: it writes suggestions
(`auto_applicable: false`, `safe_mode: true`) and never changes production.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.telemetry import TelemetryActivities
    from activities.upgrades import UpgradeActivities
    from orchestrator.retries import JOB_RETRY, JOB_TIMEOUT
    from rules.upgrade_proposals import propose
    from schemas.telemetry import AnomalyRules
    from schemas.upgrades import PlanWrite, UpgradePlannerInput, UpgradePlannerResult

SIGNALS_PATCH = "signals-with-window-and-anomalies"


@workflow.defn
class UpgradePlanner:
    @workflow.run
    async def run(self, params: UpgradePlannerInput) -> UpgradePlannerResult:
        signals = await workflow.execute_activity_method(
            UpgradeActivities.gather_signals, params, start_to_close_timeout=JOB_TIMEOUT, retry_policy=JOB_RETRY
        )
        if workflow.patched(SIGNALS_PATCH):
            found = await workflow.execute_activity_method(
                TelemetryActivities.scan_anomalies,
                AnomalyRules(window_s=params.window_s),
                start_to_close_timeout=JOB_TIMEOUT,
                retry_policy=JOB_RETRY,
            )
            signals.anomalies = found.anomalies
        write = PlanWrite(proposals=propose(signals), stale_after_s=params.stale_after_s)
        return await workflow.execute_activity_method(
            UpgradeActivities.write_plans, write, start_to_close_timeout=JOB_TIMEOUT, retry_policy=JOB_RETRY
        )
