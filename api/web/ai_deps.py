"""What the Brain's pages take: the signed-in caller's BrainContext, built as the JSON API builds it
(api/deps.get_brain) from the page session, so a page and a JSON route ask the AI with the same rights."""

from typing import Annotated

from fastapi import Depends

from api.deps import EngineDep, SettingsDep, TemporalDep, brain_for
from api.web.deps import PageCaller
from core.errors import ApiError
from domain.brain_context import BrainContext
from schemas.i18n import tr


async def get_page_brain(
    caller: PageCaller, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> BrainContext:
    """The caller's tenant and plan with the platform's Temporal and database. The founder's own session belongs
    to no tenant: its AI pages are not there (404), as another tenant's run is not."""
    if caller.tenant_id is None:
        raise ApiError(404, "not_found", tr("There is no such page"))
    return await brain_for(caller, caller.tenant_id, engine, temporal, settings)


PageBrain = Annotated[BrainContext, Depends(get_page_brain)]
