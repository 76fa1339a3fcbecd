"""The Admin Power Panel's system toggles (founders only): each toggle's value, who changed it last, when and why, a
change form that needs a reason (maintenance mode and the launch stage ask to confirm first), and the history of
changes. Changes go through domain/toggles.py, which validates, stores and audits them."""

from datetime import UTC, datetime
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, audit_actor, session_caller
from api.web.deps import FounderPage
from api.web.locale import page_url
from api.web.pages import page_locale, render
from api.web.panel_formats import Formats
from api.web.toggles_chart import LANES, WINDOW, toggles_svg
from api.web.toggles_texts import CONFIRM_EFFECTS, CONFIRM_QUESTIONS, EFFECTS, LABELS, ORDER, VALUE_WORDS
from core.errors import ApiError
from core.i18n import render as render_text
from core.i18n import when
from domain.toggles import change_toggles, toggles_view
from schemas.i18n import Text, tr
from schemas.toggles import SystemTogglesUpdate, ToggleName, ToggleState, TogglesView

router = APIRouter(prefix="/admin/power/toggles", include_in_schema=False)
Changeable = Annotated[
    str, Path(pattern="^(" + "|".join(n for n in get_args(ToggleName) if n != "maintenance_message") + ")$")
]
CONFIRMED_FIRST = frozenset({"maintenance", "launch_stage"})


@router.get("")
async def toggles_page(
    request: Request, _founder: FounderPage, engine: EngineDep, done: Annotated[str, Query(max_length=16)] = ""
) -> HTMLResponse:
    """Every toggle with its value and last change, the change forms, and the history."""
    view = await run_in_threadpool(toggles_view, engine)
    return _page(request, view, notice=tr("Saved: the platform follows the change within seconds.") if done else None)


@router.post("/{name}")
async def change_toggle(
    request: Request,
    name: Changeable,
    founder: FounderPage,
    engine: EngineDep,
    value: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=500)] = "",
    message: Annotated[str, Form(max_length=500)] = "",
    confirmed: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """Changes one toggle with a reason; maintenance mode and the launch stage first show what will happen."""
    fields: dict[str, Any] = {name: _parsed(value), "reason": reason}
    if name == "maintenance" and fields[name] is True:
        fields["maintenance_message"] = message
    try:
        change = SystemTogglesUpdate.model_validate(fields)
    except ValidationError as err:
        field = str(err.errors()[0]["loc"][0]) if err.errors() else name
        problem = tr("Give a reason for the change.") if field == "reason" else tr("This value is not allowed.")
        return await _refused(request, engine, problem, name)
    new = getattr(change, name)
    if name in CONFIRMED_FIRST and confirmed != "yes":
        return _confirm(request, name, new, value, change)
    try:
        await run_in_threadpool(change_toggles, engine, change, audit_actor(session_caller(founder)))
    except ApiError as err:
        return await _refused(
            request, engine, err.message if isinstance(err.message, Text) else tr("This value is not allowed."), name
        )
    return RedirectResponse(page_url(request, "/admin/power/toggles?done=saved"), status_code=303)


def _parsed(value: str) -> Any:
    """A form's value as the toggle takes it: on/off, a number, or the word itself (a launch stage)."""
    if value in ("on", "off"):
        return value == "on"
    return int(value) if value.isdigit() else value


def _confirm(request: Request, name: str, new: Any, value: str, change: SystemTogglesUpdate) -> HTMLResponse:
    locale = page_locale(request)
    return render(
        request,
        "admin/toggles_confirm.html",
        title=render_text(CONFIRM_QUESTIONS[(name, new)], locale),
        part="toggles",
        name=name,
        value=value,
        question=CONFIRM_QUESTIONS[(name, new)],
        effect=CONFIRM_EFFECTS[(name, new)],
        reason=change.reason,
        message=change.maintenance_message or "",
    )


async def _refused(request: Request, engine: EngineDep, problem: Text, name: str) -> HTMLResponse:
    view = await run_in_threadpool(toggles_view, engine)
    return _page(request, view, status=422, error=problem, failed=name)


def _page(request: Request, view: TogglesView, status: int = 200, **context: Any) -> HTMLResponse:
    locale = page_locale(request)
    now = datetime.now(UTC)
    chart = toggles_svg(
        view.toggles.model_dump(),
        view.history,
        now,
        {name: render_text(LABELS[name], locale) for name in LANES},
        (when((now - WINDOW).date(), locale), render_text(tr("Now"), locale)),
    )
    states: dict[str, ToggleState] = {s.name: s for s in view.states}
    return render(
        request,
        "admin/toggles.html",
        status=status,
        title=render_text(tr("System toggles"), locale),
        part="toggles",
        view=view,
        toggles=[states[name] for name in ORDER],
        message_state=states["maintenance_message"],
        labels=LABELS,
        effects=EFFECTS,
        words=VALUE_WORDS,
        confirmed_first=CONFIRMED_FIRST,
        fmt=Formats(locale),
        chart=chart,
        **context,
    )
