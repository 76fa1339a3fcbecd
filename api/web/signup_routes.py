"""Self-service sign-up in the web app: the form (a team's name and an e-mail), its neutral answer, and the closed
notice while the founder has new sign-ups off. The same domain function as POST /api/signup does the work."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, SettingsDep, TemporalDep
from api.web.deps import AnonymousCsrf, MaybeSession
from api.web.locale import page_url
from api.web.pages import render
from core.errors import ApiError
from domain.sign_in_links import SignInLimiter
from domain.signup import sign_up, signups_open
from schemas.i18n import tr
from schemas.signup import SignUpCreate

router = APIRouter(include_in_schema=False)
TITLE = tr("Sign up")


@router.get("/sign-up")
async def sign_up_page(request: Request, me: MaybeSession, engine: EngineDep) -> Response:
    """The form, or the notice that sign-ups are closed (the signed-in go to the app)."""
    if me is not None:
        return RedirectResponse(page_url(request, "/app"), status_code=303)
    is_open = await run_in_threadpool(signups_open, engine)
    return _page(request, 200, is_open=is_open)


@router.post("/sign-up", dependencies=[AnonymousCsrf])
async def submit_sign_up(
    request: Request,
    team: Annotated[str, Form(max_length=200)],
    email: Annotated[str, Form(max_length=254)],
    settings: SettingsDep,
    engine: EngineDep,
    temporal: TemporalDep,
) -> Response:
    """Makes the team and e-mails its sign-in link; the same answer when the address already has an account."""
    if not await run_in_threadpool(signups_open, engine):
        return _page(request, 403, is_open=False)
    try:
        body = SignUpCreate(team=team, email=email.strip())
    except ValidationError as err:
        field = str(err.errors()[0]["loc"][0]) if err.errors() else "email"
        problem = tr("Give your team a name.") if field == "team" else tr("Enter a valid e-mail address.")
        return _page(request, 422, is_open=True, team=team, email=email, error=problem)
    limiter: SignInLimiter = request.app.state.sign_in_limiter
    try:
        await sign_up(engine, temporal, settings, limiter, body, request.client.host if request.client else "unknown")
    except ApiError as err:
        if err.code == "too_many_requests":
            return _page(request, 429, is_open=True, team=team, email=email, too_many=True)
        if err.code != "signups_closed":
            raise
        return _page(request, 403, is_open=False)
    return RedirectResponse(page_url(request, "/sign-up/sent"), status_code=303)


@router.get("/sign-up/sent")
def sign_up_sent(request: Request) -> HTMLResponse:
    return render(request, "sign_up_sent.html", title=tr("Check your e-mail"))


def _page(request: Request, status: int, **context: object) -> HTMLResponse:
    return render(request, "sign_up.html", status=status, title=TITLE, **context)
