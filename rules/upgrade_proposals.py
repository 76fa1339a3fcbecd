"""Which design-only upgrade plans the platform's signals call for (failures, throttles, limits,
findings, heartbeats, anomalies)."""

import hashlib

from schemas.telemetry import Anomaly
from schemas.upgrades import (
    FailedCheck,
    FailureGroup,
    FindingSignal,
    PlanCategory,
    PlanProposal,
    RiskLevel,
    TenantSignal,
    UpgradeSignals,
)

# Recurring failures of one step, by AutoRecovery's category: what to improve and in which area.
FAILURE_ADVICE: dict[str, tuple[PlanCategory, RiskLevel, str]] = {
    "timeout": ("performance", "medium", "times out: raise its timeout_s or make the target answer faster"),
    "target_5xx": ("reliability", "medium", "gets 5xx answers: add a retry policy with more attempts, or a fallback"),
    "transient_network": ("reliability", "low", "cannot reach its target: check DNS/TLS and add retries"),
    "auth_4xx": ("security", "high", "is refused by its target: rotate or fix the credential it sends"),
    "validation": ("UX", "low", "sends input its target rejects: add an input_schema to the workflow"),
    "approval_timed_out": ("UX", "low", "waits for approvals that expire: notify approvers or lengthen the timeout"),
    "unknown": ("reliability", "medium", "fails in ways AutoRecovery cannot classify: inspect the failure queue"),
}


MIN_REPEATED_FAILURES = 3


NEAR_LIMIT_SHARE = 0.8


MIN_FAILED_HEARTBEATS = 3


CORE_CHECKS = ("database", "temporal")


ANOMALY_ADVICE: dict[str, tuple[PlanCategory, str]] = {
    "slow_endpoint": ("performance", "profile it and move slow work behind a workflow or add an index"),
    "repeated_message": ("reliability", "find the cause of the repeated error before it spreads"),
    "high_error_rate": ("reliability", "look at this source's recent errors and deployments"),
}


def propose(signals: UpgradeSignals) -> list[PlanProposal]:
    """Every plan the signals call for, most urgent first."""
    plans = [*map(_failure_plan, signals.failure_groups)]
    plans += [_throttled_plan(signal) for signal in signals.throttled_tenants]
    plans += [_near_limit_plan(signal) for signal in signals.near_limit_tenants]
    plans += [_finding_plan(finding) for finding in signals.compliance_findings]
    plans += [_heartbeat_plan(check) for check in signals.failed_checks]
    plans += [_anomaly_plan(anomaly) for anomaly in signals.anomalies]
    return sorted(plans, key=lambda plan: (plan.priority, plan.fingerprint))


def _failure_plan(group: FailureGroup) -> PlanProposal:
    category, risk, advice = FAILURE_ADVICE.get(group.category, FAILURE_ADVICE["unknown"])
    return PlanProposal(
        fingerprint=f"failures:{group.definition_id}:{group.step_id}:{group.category}",
        title=f"Step {group.step_id} {advice.split(':')[0]}",
        description=f"Step {group.step_id} of workflow {group.definition_id} {advice} ({group.count} open failures).",
        priority=1 if group.count >= 10 else 2 if group.count >= 5 else 3,
        category=category,
        risk_level=risk,
        source="failure_queue",
        metadata=group.model_dump(),
    )


def _throttled_plan(signal: TenantSignal) -> PlanProposal:
    return PlanProposal(
        fingerprint=f"cost:throttled:{signal.tenant_id}",
        title="A tenant is throttled for a spend spike",
        description=f"Tenant {signal.tenant_id} ({signal.plan}) was capped by the cost autopilot: confirm the spike "
        "with them, then lift the throttle or move them to a plan that prices this usage.",
        priority=2,
        category="pricing",
        risk_level="low",
        source="cost_autopilot",
        metadata=signal.model_dump(),
    )


def _near_limit_plan(signal: TenantSignal) -> PlanProposal:
    return PlanProposal(
        fingerprint=f"usage:near-limit:{signal.tenant_id}",
        title="A tenant is close to its plan's limits",
        description=f"Tenant {signal.tenant_id} has used {NEAR_LIMIT_SHARE:.0%} or more of a {signal.plan} limit this "
        "month: offer the next plan before run starts are refused.",
        priority=3,
        category="pricing",
        risk_level="low",
        source="usage",
        metadata=signal.model_dump(),
    )


def _finding_plan(finding: FindingSignal) -> PlanProposal:
    return PlanProposal(
        fingerprint=f"compliance:{finding.check}:{finding.tenant_id or 'platform'}",
        title=f"Compliance: {finding.title}"[:200],
        description=finding.remediation[:2000],
        priority=1 if finding.severity == "critical" else 2,
        category="security",
        risk_level="high" if finding.severity == "critical" else "medium",
        source="compliance_audit",
        metadata=finding.model_dump(),
    )


def _heartbeat_plan(check: FailedCheck) -> PlanProposal:
    core = check.name in CORE_CHECKS
    return PlanProposal(
        fingerprint=f"heartbeat:{check.name}",
        title=f"The {check.name} check keeps failing",
        description=f"The {check.name} check failed in {check.failed} of {check.total} heartbeats: "
        + ("add redundancy or alerting for it." if core else "check its credentials and reachability."),
        priority=1 if core else 2,
        category="reliability",
        risk_level="medium",
        source="heartbeat",
        metadata=check.model_dump(),
    )


def _anomaly_plan(anomaly: Anomaly) -> PlanProposal:
    category, advice = ANOMALY_ADVICE[anomaly.rule]
    subject = hashlib.sha256(anomaly.subject.encode()).hexdigest()[:16]
    return PlanProposal(
        fingerprint=f"anomaly:{anomaly.rule}:{anomaly.source}:{subject}"[:200],
        title=f"{anomaly.rule.replace('_', ' ').capitalize()}: {anomaly.subject}"[:200],
        description=f"{anomaly.subject} ({anomaly.source}) measured {anomaly.value:g} against a threshold of "
        f"{anomaly.threshold:g} over {anomaly.count} events: {advice}."[:2000],
        priority=1 if anomaly.severity == "critical" else 2,
        category=category,
        risk_level="medium",
        source="telemetry",
        metadata=anomaly.model_dump(mode="json"),
    )
