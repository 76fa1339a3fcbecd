"""What /docs and /openapi.json tell a reader: operation ids, summaries, tag groups and the error envelope
`{code, message, field}` on every operation. The bearer scheme itself comes from `get_caller`'s `HTTPBearer`.
Everything here only describes the API; no answer changes."""

import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from schemas.api import ErrorBody

ERROR_SCHEMA = "ErrorBody"
CHANGING_METHODS = {"post", "put", "patch", "delete"}

DESCRIPTION = """Durable, multi-tenant workflow automation on Temporal.

**Authentication:** `Authorization: Bearer <token>` with a tenant API key, or the founder token for founder
routes (use *Authorize*). Operations without a lock need none: inbound webhooks authenticate by their URL's
token and signature, Stripe's webhook by its signature.

**Errors:** every error is JSON `{"code", "message", "field"}`; `code` is stable, `field` names the offending
input. Another tenant's ids answer 404, exactly like ids that do not exist."""

GROUPS = {  # the tag of each router, in the order /docs shows them
    "tenants": "Tenants, their lifecycle (suspend, resume, delete, restore), API keys.",
    "users": "A tenant's users of the web app: invite (an e-mailed sign-in link), change a role, remove.",
    "workflows": "Workflow definitions: validate, store and read versions.",
    "runs": "Start, list, read and cancel runs; decide approval gates.",
    "approvals": "Gates waiting for a decision.",
    "schedules": "Cron and interval schedules of a definition.",
    "webhooks": "Configure a definition's inbound webhook.",
    "hooks": "Inbound webhook calls: authenticated by the URL's token and signature.",
    "secrets": "Tenant secrets that steps reference by name.",
    "failures": "The failure queue, AutoRecovery's healing plan and re-drives.",
    "usage": "This month's usage against the plan.",
    "billing": "Plans, Stripe checkout and portal, dunning; Stripe's webhook.",
    "pricing": "Public, region-aware price list.",
    "data requests": "A tenant's data export and account deletion.",
    "legal": "Published legal documents and their versions.",
    "compliance": "Compliance audits and their reports (founder).",
    "cost": "Spend per tenant and the cost autopilot's throttles (founder).",
    "guardian": "Telemetry, anomalies, daily reports and platform summary.",
    "upgrades": "The UpgradePlanner's design-only plans (founder).",
    "retention": "How long each class of a tenant's data is kept; the RetentionEnforcer's report.",
    "sign-up": "Self-service sign-up of a new team on the free plan (while the founder keeps sign-ups open).",
    "toggles": "The system toggles: maintenance mode, launch stage, AI features, new sign-ups, AutoRecovery (founder).",
    "system": "Liveness and health of the platform.",
    "support": "The support desk: tickets and the public contact form, founders' replies (also by e-mail), closing, "
    "satisfaction scores and the summary.",
    "ai": "The Brain: drafts, diagnoses and fixes, the help chat, onboarding, AI credits; each answer says whether the "
    "AI wrote it or a fallback did (`source`).",
}
TAGS = [{"name": name, "description": description} for name, description in GROUPS.items()]

ERRORS = {
    400: "The body or a signature header cannot be used (`bad_signature`, `invalid_payload`).",
    401: "No bearer token, or an unknown or revoked one (`unauthenticated`); a bad signature (`bad_signature`) "
    "or one made more than 5 minutes from now (`stale_signature`).",
    403: "This credential may not do this (`founder_only`, `admin_only`, `tenant_key_required`), or the "
    "tenant's state forbids it (`tenant_suspended`, `tenant_deleted`).",
    404: "No such resource, or it belongs to another tenant (`*_not_found`).",
    409: "The resource's state or version does not allow this (`illegal_transition`, `version_conflict`).",
    413: "The body or the run input is over its size limit (`body_too_large`, `input_too_large`, ...).",
    422: "The request is invalid (`invalid_request`, `invalid_json`, or a rule of the resource); "
    "`field` names the offending path, e.g. `body.steps[0].url`.",
    429: "The plan's monthly limit is used up (`usage_limit_reached`) or the cost throttle holds "
    "(`tenant_throttled`); extra fields say which limit.",
    502: "Stripe or the workflow engine refused the call (`stripe_rejected`, `temporal_error`).",
    503: "The database, the workflow engine or a needed service is unreachable or unset; retry shortly.",
}
AUTHENTICATED = (401, 403, 503)  # get_caller reads tenant keys from the database; roles answer 403
WITH_INPUT = (422,)  # parameters or a body: the validation handler answers the envelope
WITH_PATH_ID = (404,)  # another tenant's id answers 404, exactly like a made-up one
AUTHENTICATED_CHANGE = (409,)  # a state or version conflict
# What the rules above cannot see: operations without bearer auth, size limits, admission and Stripe.
EXTRA_ERRORS: dict[str, tuple[int, ...]] = {
    "start_run": (413, 429),
    "create_schedule": (413,),
    "update_schedule": (413,),
    "receive_hook": (401, 403, 413, 429, 503),
    "create_signup": (403, 429),
    "receive_stripe_event": (400, 413, 503),
    "ingest_telemetry": (413, 422),
    "start_checkout": (502,),
    "open_portal": (502,),
    "get_legal_documents": (503,),
    "list_versions": (503,),
    # an id in the query or the body, not the path: another tenant's or a made-up one answers 404 all the same
    "get_usage": (404,),
    "run_audit": (404,),
    "daily_report": (404,),
    "get_latest_retention_report": (404,),  # before the RetentionEnforcer's first pass
}
SENTENCE = re.compile(r"(.+?[.!?])(?=\s+[A-Z0-9(`]|$)")


def operation_id(route: APIRoute) -> str:
    """The handler's name (`start_run`): stable when a path changes, unique across the app."""
    return route.name


def install_openapi(app: FastAPI) -> None:
    """Wraps `app.openapi` so the generated schema is documented once each time FastAPI regenerates it."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    documented: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        schema = generate()
        if not documented or documented[0] is not schema:
            documented[:] = [document(schema)]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds summaries and the error responses to every operation, in place."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_SCHEMA] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            _summarise(operation)
            _add_errors(operation, method)
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 body, which we never answer
        if f'"#/components/schemas/{unused}"' not in json.dumps(schema):
            schemas.pop(unused, None)
    return schema


def _summarise(operation: dict[str, Any]) -> None:
    """The docstring's first sentence as the summary, unless the route set one; the whole docstring stays the
    description when it says more."""
    doc = operation.get("description")
    default = operation.get("operationId", "").replace("_", " ").title()
    if not doc or operation.get("summary") not in (None, default):
        return
    first = " ".join(doc.split("\n\n")[0].split())
    match = SENTENCE.match(first)
    sentence = match.group(1) if match else first
    operation["summary"] = sentence.rstrip(".")
    if " ".join(doc.split()) == sentence:
        del operation["description"]


def _add_errors(operation: dict[str, Any], method: str) -> None:
    statuses = set(EXTRA_ERRORS.get(operation.get("operationId", ""), ()))
    if operation.get("security"):
        statuses.update(AUTHENTICATED)
    parameters = operation.get("parameters", [])
    if parameters or "requestBody" in operation:
        statuses.update(WITH_INPUT)
    if any(parameter.get("in") == "path" for parameter in parameters):
        statuses.update(WITH_PATH_ID)
    if operation.get("security") and method in CHANGING_METHODS:
        statuses.update(AUTHENTICATED_CHANGE)
    responses = operation.setdefault("responses", {})
    envelope = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}}
    for status in statuses:
        responses.setdefault(str(status), {"description": ERRORS[status]})
    for status, declared in responses.items():  # a route's own error statuses answer the envelope too
        if status[0] not in "45":
            continue
        if "HTTPValidationError" in json.dumps(declared):  # FastAPI's 422 body, never answered
            declared.update(description=ERRORS[422])
            del declared["content"]
        declared.setdefault("content", envelope)
    operation["responses"] = dict(sorted(responses.items()))
