"""The approvals inbox: the gates waiting in the caller's runs, those the caller may decide first, each with its
run's context and approve/reject with a comment (posted to the run page's decide form)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep, TemporalDep
from api.web.deps import PageCaller
from api.web.pages import render
from api.web.runs_view import may_decide
from domain.approvals import pending_approvals
from domain.definitions import list_definitions
from schemas.i18n import tr

router = APIRouter(prefix="/app/approvals", include_in_schema=False)
NOTICES = {"approve": tr("Approved: the run goes on."), "reject": tr("Rejected: the run ends at its gate.")}


@router.get("")
async def inbox(
    request: Request,
    caller: PageCaller,
    temporal: TemporalDep,
    session: SessionDep,
    done: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    """Waiting gates, oldest request first: the caller's to decide, then those waiting for someone else."""
    pending = await pending_approvals(temporal, caller.tenant_id)
    names = {} if caller.tenant_id is None else {w.id: w.name for w in list_definitions(session, caller.tenant_id)}
    return render(
        request,
        "approvals/inbox.html",
        title=tr("Approvals"),
        section="approvals",
        mine=[a for a in pending if may_decide(caller, a.gate)],
        others=[a for a in pending if not may_decide(caller, a.gate)],
        names=names,
        notice=NOTICES.get(done),
    )
