"""The failure queue: runs whose step failed for good, with priority, AutoRecovery's category and suggestion, and
(for admins and the founder) a Retry button that posts to the run pages' re-drive (`POST /app/runs/{id}/retry`,
which calls `redrive_failed_run` as the JSON route does). Listed by `list_failures`, as GET /api/failures."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep
from api.web.deps import PageCaller
from api.web.pages import render
from api.web.runs_view import may_retry
from domain.definitions import list_definitions
from domain.failures import list_failures
from schemas.failures import FailurePublic
from schemas.i18n import tr

router = APIRouter(prefix="/app/failures", include_in_schema=False)
SHOWN = 100
FailureStatus = Literal["open", "redriven", "all"]
Priority = Literal["any", "critical", "high", "normal"]


@router.get("")
async def failures_page(
    request: Request, caller: PageCaller, engine: EngineDep,
    status: Annotated[FailureStatus, Query()] = "open", priority: Annotated[Priority, Query()] = "any",
) -> HTMLResponse:  # fmt: skip
    """Failed runs, most recent failure first, filtered by status (open by default) and priority."""
    found, names = await run_in_threadpool(_read, engine, caller.tenant_id, status, priority)
    return render(
        request, "failures/list.html", title=tr("Failures"), section="failures", failures=found, names=names,
        chosen_status=status, priority=priority, may_retry=may_retry(caller), shown=SHOWN,
    )  # fmt: skip


def _read(
    engine: Engine, tenant_id: str | None, status: FailureStatus, priority: Priority
) -> tuple[list[FailurePublic], dict[str, str]]:
    """The listing and the tenant's workflow names (the founder, seeing every tenant's, gets ids)."""
    with Session(engine) as session:
        found = list_failures(
            session,
            tenant_id,
            None if status == "all" else status,
            None if priority == "any" else priority,
            None,
            SHOWN,
        )
        names = {} if tenant_id is None else {w.id: w.name for w in list_definitions(session, tenant_id)}
    return found, names
