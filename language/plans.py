"""Plan policies as data: which steps each plan treats as risky.

A mark is a step `type` ("email") or a `type:METHOD` pair ("http_request:DELETE"). The validator
requires every risky step to sit behind a class C (founder) approval gate.
"""

from language.steps import Step
from schemas.api import PLANS

_WRITES = frozenset({"http_request:POST", "http_request:PUT", "http_request:PATCH", "http_request:DELETE"})

RISKY_MARKS: dict[str, frozenset[str]] = {
    "free": frozenset({"email", "ai"}) | _WRITES,
    "starter": frozenset({"email", "http_request:DELETE"}),
    "pro": frozenset({"http_request:DELETE"}),
    "enterprise": frozenset(),
}


def risky_step(plan: str, step: Step) -> bool:
    """Whether `plan` marks `step` risky; an unknown plan raises ValueError."""
    if plan not in RISKY_MARKS:
        raise ValueError(f"unknown plan {plan!r}; expected one of {', '.join(PLANS)}")
    marks = RISKY_MARKS[plan]
    method = getattr(step, "method", None)
    return step.type in marks or (method is not None and f"{step.type}:{method}" in marks)
