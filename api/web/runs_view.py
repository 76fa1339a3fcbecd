"""What the run pages show, shaped from what the domain answers (pure, no I/O): each step's configuration and
result as masked, pretty JSON, who may press which button, and the list's filters that the domain has no query for.

Who may decide a gate is the run's own rule (`DECIDERS`, which its update validator enforces); the page only reads
it to hide buttons a caller could not use, and the server still refuses a forged decision."""

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from api.deps import Caller, is_tenant_admin
from orchestrator.user_run import DECIDERS
from schemas.runs import PendingApproval, RunPublic, RunSummary, StepOutcome

MASK = "•••••• (hidden)"
# Keys whose values are credentials wherever they appear in a step's configuration or result. Secrets are resolved
# only inside the HTTP activity and redacted from what it answers; this hides what a tenant typed in by hand.
SECRET_KEY = re.compile(r"authorization|cookie|password|passwd|secret|token|api[-_]?key|credential", re.IGNORECASE)
LONG_JSON_LINES = 12
MAX_JSON_CHARS = 20_000
TRIGGERS = ("api", "schedule", "webhook", "redrive", "auto_recovery")
IN_FLIGHT = frozenset({"running", "waiting_approval"})


@dataclass(frozen=True)
class JsonBlock:
    """A value as indented JSON, with whether it is long enough to start collapsed."""

    text: str
    long: bool
    cut: bool = False


@dataclass(frozen=True)
class StepView:
    outcome: StepOutcome | None
    step_id: str
    kind: str
    config: JsonBlock | None
    result: JsonBlock | None


def masked(value: Any) -> Any:
    """`value` with the value of every credential-named key replaced by a mask, at any depth."""
    if isinstance(value, dict):
        return {k: MASK if SECRET_KEY.search(str(k)) else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def json_block(value: Any) -> JsonBlock:
    """Masked, indented JSON; cut at MAX_JSON_CHARS (the whole value is one link away)."""
    text = json.dumps(masked(value), indent=2, ensure_ascii=False, default=str, sort_keys=False)
    cut = len(text) > MAX_JSON_CHARS
    if cut:
        text = text[:MAX_JSON_CHARS] + "\n…"
    return JsonBlock(text, text.count("\n") >= LONG_JSON_LINES, cut)


def step_views(run: RunPublic, planned: list[dict[str, Any]]) -> list[StepView]:
    """A view per step of the definition (its configuration) with the outcome the run has for it, in the
    definition's order; an outcome of a step the definition does not name (the campaign review a marketing run
    adds before launch) comes just before the first step the run ran after it, else last."""
    outcomes = {outcome.step_id: outcome for outcome in run.steps}
    views = [_view(outcomes.pop(str(step.get("id")), None), step) for step in planned]
    ran = {id(outcome): position for position, outcome in enumerate(run.steps)}
    for outcome in outcomes.values():
        after = [
            i for i, view in enumerate(views) if view.outcome is not None and ran[id(view.outcome)] > ran[id(outcome)]
        ]
        views.insert(after[0] if after else len(views), _view(outcome, {}))
    return views


def _view(outcome: StepOutcome | None, step: dict[str, Any]) -> StepView:
    config = {k: v for k, v in step.items() if k not in ("id", "type")}
    result = json_block(outcome.result) if outcome is not None and outcome.result is not None else None
    return StepView(
        outcome=outcome,
        step_id=outcome.step_id if outcome else str(step.get("id")),
        kind=outcome.type if outcome else str(step.get("type")),
        config=json_block(config) if config else None,
        result=result,
    )


def may_decide(caller: Caller, gate: PendingApproval | None) -> bool:
    """Whether the caller's role is one the run accepts a decision of this gate from."""
    return gate is not None and caller.decider_role in DECIDERS[gate.approval_class]


def may_retry(caller: Caller) -> bool:
    """Re-driving a failed run is for the tenant's admins (and the founder), as on the JSON API."""
    return is_tenant_admin(caller)


def in_flight(run: RunPublic) -> bool:
    """Whether the page keeps polling: until Temporal has closed the run (a run reports `completed` a moment
    before its execution closes, and the page's closing time comes from the close)."""
    return run.closed_at is None


def may_cancel(run: RunPublic) -> bool:
    return run.closed_at is None and run.status in IN_FLIGHT


def live_state(run: RunPublic) -> str:
    """What the page's buttons depend on; a change makes the live fragment reload the whole page."""
    return f"{run.status}:{run.waiting.step_id if run.waiting else ''}:{run.closed_at is not None}"


@dataclass(frozen=True)
class PageFilter:
    """The list's filter the listing has no query for (a run's trigger is in its memo, which visibility cannot
    search), applied to the page the listing answered."""

    trigger: str | None = None

    @property
    def active(self) -> bool:
        return self.trigger is not None

    def keeps(self, run: RunSummary) -> bool:
        return self.trigger is None or run.trigger == self.trigger


def start_range(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Whole UTC days: from the start of `since` to the end of `until` (either end open when None)."""
    low = datetime.combine(since, time.min, UTC) if since else None
    high = datetime.combine(until, time.min, UTC) + timedelta(days=1) if until else None
    return low, high
