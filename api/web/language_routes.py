"""The language switcher's form: keeps the choice in a cookie (and with the signed-in user's account) and goes
back to the same page in the new language. The page's script does the same with fetch and switches in place."""

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from api.deps import CSRF_HEADER, EngineDep, check_csrf
from api.web.deps import MaybeSession, check_anonymous_csrf
from api.web.locale import LANGUAGE_COOKIE, LANGUAGE_COOKIE_MAX_AGE_S, localized, split_prefix
from api.web.pages import secure_request
from core.errors import ApiError
from core.i18n import canonical_tag
from domain.user_language import store_language
from schemas.i18n import tr

router = APIRouter(include_in_schema=False)
# A page of this site to return to: a path (no host, no `//`) and a plain query.
SAME_SITE_PAGE = re.compile(r"/[A-Za-z0-9_.~/%-]*(\?[A-Za-z0-9_.=&%+~-]*)?")


@router.post("/language")
async def switch_language(
    request: Request,
    language: Annotated[str, Form(max_length=16)],
    me: MaybeSession,
    engine: EngineDep,
    next_page: Annotated[str, Form(alias="next", max_length=2000)] = "/",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Switches to `language` and returns to `next` (this site's page, unprefixed) under its prefix."""
    if me is not None:
        check_csrf(request, me, request.headers.get(CSRF_HEADER) or csrf_token)
    else:
        await check_anonymous_csrf(request)
    tag = canonical_tag(language)
    if tag is None:
        raise ApiError(422, "unknown_language", tr("Levqor does not speak this language yet."), field="language")
    if me is not None:
        await run_in_threadpool(store_language, engine, me.user_id, tag)
    response = RedirectResponse(localized(_same_site_page(next_page), tag), status_code=303)
    response.set_cookie(
        LANGUAGE_COOKIE, tag, max_age=LANGUAGE_COOKIE_MAX_AGE_S, secure=secure_request(request), samesite="lax"
    )
    return response


def _same_site_page(wanted: str) -> str:
    """`wanted` without a language prefix when it is a page of this site (a path, no host); else the start."""
    if not SAME_SITE_PAGE.fullmatch(wanted) or "//" in wanted:
        return "/"
    path, mark, query = wanted.partition("?")
    return split_prefix(path)[1] + mark + query
