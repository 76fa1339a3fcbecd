"""A compliance report's score: a penalty per finding's severity, capped per check."""

from schemas.compliance import SEVERITIES, Finding

CHECK_PENALTY_CAP = 25


def score_of(findings: list[Finding]) -> int:
    """100 minus the findings' penalties, each check's capped at CHECK_PENALTY_CAP; never below 0."""
    per_check: dict[str, int] = {}
    for finding in findings:
        per_check[finding.check] = per_check.get(finding.check, 0) + finding.penalty
    return max(0, 100 - sum(min(CHECK_PENALTY_CAP, penalty) for penalty in per_check.values()))


def counts_of(findings: list[Finding]) -> dict[str, int]:
    """How many findings of each severity, every severity present."""
    return {severity: sum(f.severity == severity for f in findings) for severity in SEVERITIES}
