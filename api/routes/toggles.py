"""The founder's system toggles on the JSON API: read them with each one's last change and the history, and change
them with a reason (audited). Anyone but the founder gets 404: the toggles do not exist for them."""

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import CallerDep, EngineDep, audit_actor
from core.errors import ApiError
from domain.toggles import change_toggles, toggles_view
from schemas.i18n import tr
from schemas.toggles import SystemTogglesUpdate, TogglesView

router = APIRouter(prefix="/api/admin/toggles", tags=["toggles"])


@router.get("")
async def get_toggles(caller: CallerDep, engine: EngineDep) -> TogglesView:
    """The system toggles now, who changed each one last, when and why, and the latest changes."""
    _founder_only(caller.is_founder)
    return await run_in_threadpool(toggles_view, engine)


@router.put("")
async def change_system_toggles(body: SystemTogglesUpdate, caller: CallerDep, engine: EngineDep) -> TogglesView:
    """Change one or more toggles (`reason` required); the code each governs follows within seconds."""
    _founder_only(caller.is_founder)
    return await run_in_threadpool(change_toggles, engine, body, audit_actor(caller))


def _founder_only(is_founder: bool) -> None:
    if not is_founder:
        raise ApiError(404, "not_found", tr("There is no such page"))
