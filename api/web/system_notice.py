"""The maintenance banner's hook: `{% set notice = maintenance_notice() %}` is None unless the founder has maintenance
mode on and someone is signed in; then the founder's message ("" without one). Read with the toggles' short cache."""

from fastapi import Request
from jinja2 import pass_context
from jinja2.runtime import Context

from core.toggles import read_toggles


@pass_context
def maintenance_notice(context: Context) -> str | None:
    request, me = context.get("request"), context.get("me")
    engine = getattr(request.state, "engine", None) if isinstance(request, Request) else None
    if me is None or engine is None:
        return None
    toggles = read_toggles(engine)
    return (toggles.maintenance_message or "") if toggles.maintenance else None
