"""The run page's buttons: cancel a run, retry a failed run from its failed step, decide a waiting gate.

Each is a POST form carrying the session's CSRF token (checked by `PageCaller`), calls the domain function the JSON
route calls, and answers 303 to the page to show (post/redirect/get). What the domain refuses (409 not running,
403 role not allowed) renders the error page with its message; the page hides buttons a caller may not use, but a
forged POST meets the same checks."""

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse

from api.deps import EngineDep, SettingsDep, TemporalDep, require_tenant_admin
from api.web.deps import PageCaller
from api.web.locale import page_redirect
from domain import approvals, failures, runs
from language.steps import STEP_ID_PATTERN
from schemas.i18n import tr
from schemas.runs import StepDecision

router = APIRouter(prefix="/app/runs", include_in_schema=False)
RUN_PAGE = "/app/runs/{run_id}?done={done}"
INBOX = "/app/approvals?done={done}"


@router.post("/{run_id}/cancel")
async def cancel(
    request: Request, run_id: str, caller: PageCaller, engine: EngineDep, temporal: TemporalDep
) -> RedirectResponse:
    """Asks a running run to stop."""
    await runs.cancel_run(await runs.found_run(engine, temporal, run_id, caller.tenant_id))
    return page_redirect(request, RUN_PAGE.format(run_id=run_id, done="cancel"))


@router.post("/{run_id}/retry")
async def retry(
    request: Request, run_id: str, caller: PageCaller, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> RedirectResponse:
    """Re-drives a failed run from its failed step (admins and the founder); shows the new run."""
    found = await runs.found_run(engine, temporal, run_id, caller.tenant_id)
    require_tenant_admin(caller, tr("retry a run"))
    accepted = await failures.redrive_failed_run(engine, temporal, settings, found)
    return page_redirect(request, RUN_PAGE.format(run_id=accepted.run_id, done="retried"))


@router.post("/{run_id}/approvals/{step_id}")
async def decide(
    request: Request,
    run_id: str,
    step_id: Annotated[str, Path(pattern=STEP_ID_PATTERN)],
    caller: PageCaller,
    engine: EngineDep,
    temporal: TemporalDep,
    decision: Annotated[Literal["approve", "reject"], Form()],
    comment: Annotated[str, Form(max_length=2000)] = "",
    back_to: Annotated[Literal["run", "inbox"], Form()] = "run",
) -> RedirectResponse:
    """Approves or rejects a waiting gate with an optional comment; the run's validator checks the role."""
    found = await runs.found_run(engine, temporal, run_id, caller.tenant_id)
    choice = StepDecision(
        step_id=step_id,
        approved=decision == "approve",
        role=caller.decider_role,
        decided_by=await approvals.decider_name(engine, caller.user_id, caller.key_id),
        comment=comment.strip() or None,
    )
    await approvals.decide_step(found, choice)
    target = INBOX.format(done=decision) if back_to == "inbox" else RUN_PAGE.format(run_id=run_id, done=decision)
    return page_redirect(request, target)
