"""Secrets: the tenant's secret names (never a value), and for admins a form that sets one (the value is a password
field, never echoed back) and a confirmed delete, through `secret_names`, `store_secret` and `remove_secret` with
the JSON routes' checks (`require_admin`; the name's pattern and the value's bounds from schemas/secrets.py)."""

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import Caller, SessionDep, SettingsDep, caller_tenant, require_admin
from api.web.deps import PageCaller
from api.web.locale import page_redirect
from api.web.pages import render
from core.errors import ApiError
from domain.secrets import remove_secret, secret_names, store_secret
from schemas.i18n import tr
from schemas.secrets import SECRET_NAME_PATTERN, SecretUpdate

router = APIRouter(prefix="/app/secrets", include_in_schema=False)
SecretName = Annotated[str, Path(pattern=SECRET_NAME_PATTERN)]


@router.get("")
def secrets_page(
    request: Request, caller: PageCaller, session: SessionDep,
    done: Annotated[Literal["set", "deleted", ""], Query()] = "",
    name: Annotated[str, Query(max_length=64, pattern=SECRET_NAME_PATTERN)] = "NAME",
) -> HTMLResponse:  # fmt: skip
    """The tenant's secret names; admins set and delete them."""
    notice = None
    if done == "set":
        reference = "{{ secrets." + name + " }}"  # as a step writes it
        notice = tr("Secret %(name)s saved. Steps read it as %(reference)s.", name=name, reference=reference)
    elif done == "deleted":
        notice = tr("Secret %(name)s deleted.", name=name)
    return _page(request, session, caller, notice=notice)


@router.post("")
def set_secret(
    request: Request, caller: PageCaller, session: SessionDep, settings: SettingsDep,
    name: Annotated[str, Form(max_length=200)], value: Annotated[str, Form(max_length=20_000)],
) -> Response:  # fmt: skip
    """Creates or replaces a secret (admins); answers 303 to the list, or the page with what was wrong."""
    tenant_id = caller_tenant(caller, tr("Secrets"))
    require_admin(caller, tr("secrets"))
    name = name.strip()
    if not re.fullmatch(SECRET_NAME_PATTERN, name):
        return _page(request, session, caller, 422, error=tr("Write the name in UPPER_SNAKE_CASE, like STRIPE_KEY."),
                     typed_name=name)  # fmt: skip
    try:
        body = SecretUpdate(value=value)
    except ValidationError:
        return _page(
            request, session, caller, 422, error=tr("The value must be 1 to 8,192 characters."), typed_name=name
        )
    try:
        store_secret(session, tenant_id, name, body.value, settings.levqor_secrets_key)
    except ApiError as err:
        session.rollback()
        return _page(request, session, caller, err.status, error=err.message, typed_name=name)
    return page_redirect(request, f"/app/secrets?done=set&name={name}")


@router.get("/{name}/delete")
def confirm_delete(request: Request, name: SecretName, caller: PageCaller, session: SessionDep) -> HTMLResponse:
    """Asks before deleting: steps that still use the secret will fail."""
    tenant_id = caller_tenant(caller, tr("Secrets"))
    require_admin(caller, tr("secrets"))
    if name not in {secret.name for secret in secret_names(session, tenant_id)}:
        raise ApiError(404, "secret_not_found", tr("No secret with this name"), field="name")
    return render(request, "secrets/delete.html", title=tr("Delete %(name)s", name=name), section="secrets", name=name)


@router.post("/{name}/delete")
def delete_secret(request: Request, name: SecretName, caller: PageCaller, session: SessionDep) -> RedirectResponse:
    """Deletes the secret (admins); another tenant's or a made-up name answers 404."""
    tenant_id = caller_tenant(caller, tr("Secrets"))
    require_admin(caller, tr("secrets"))
    remove_secret(session, tenant_id, name)
    return page_redirect(request, f"/app/secrets?done=deleted&name={name}")


def _page(request: Request, session: Session, caller: Caller, status: int = 200, **extra: Any) -> HTMLResponse:
    tenant_id = caller.tenant_id
    names = secret_names(session, tenant_id) if tenant_id else []
    return render(
        request, "secrets/list.html", status=status, title=tr("Secrets"), section="secrets", secrets=names,
        admin=tenant_id is not None and caller.role == "admin", founder=tenant_id is None, **extra,
    )  # fmt: skip
