"""A tenant's own backup: its configuration exported as one signed, versioned document, and restored into an
empty tenant through the same functions the API's routes use for definitions, webhooks and schedules.

A restore checks everything before it writes anything: the format and its version, the signature (a key
derived from LEVQOR_SECRETS_KEY, so only this platform's backups restore, and only unchanged), every version
of every definition with the language's validator against the target tenant's plan, each schedule's body and
input, and that the tenant may run. Definitions get new ids (ids are global, and the source tenant may still
hold its own) and keep their version numbers; the answer maps each source id to its new one. What only
Temporal can refuse, late (a cron value the server judges), undoes the restore: the schedules, hooks and
definitions it created are removed again, so the tenant is left as empty as it was."""

from datetime import UTC, datetime
from typing import Any

import structlog
from anyio import to_thread
from pydantic import ValidationError
from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select
from temporalio.client import Client

from core.errors import ApiError
from core.security import canonical_json, derived_key, sign_json, signed_by
from core.settings import Settings
from domain.admission import check_active, check_input, check_may_run
from domain.api_keys import tenant_keys
from domain.definitions import add_definition, checked_definition, definitions_with_versions, list_definitions
from domain.schedules import check_schedule, create_schedule, delete_schedule, list_schedules
from domain.secrets import secret_names
from domain.webhooks import put_hook, tenant_hooks
from language.issues import json_path
from language.steps import WorkflowDefinition
from schemas.i18n import tr
from schemas.schedules import ScheduleCreate, SchedulePublic
from schemas.tables import AuditEntry, Tenant, WebhookTrigger, WorkflowDefinitionRow, WorkflowVersionRow
from schemas.tenant_backup import (
    BACKUP_FORMAT,
    BACKUP_FORMAT_VERSION,
    MAX_DEFINITIONS,
    MAX_ITEMS,
    MAX_SCHEDULES,
    MAX_VERSIONS,
    SIGNATURE_ALGORITHM,
    BackupApiKey,
    BackupDefinition,
    BackupIdentities,
    BackupSchedule,
    BackupSecret,
    BackupSignature,
    BackupTenant,
    BackupVersion,
    BackupWebhook,
    RestoreCounts,
    RestoredDefinition,
    RestoredSchedule,
    RestoredWebhook,
    TenantBackup,
    TenantBackupBody,
    TenantRestored,
)
from schemas.validation_messages import validation_message
from schemas.webhooks import WebhookConfig
from starters.runs import LIFECYCLE_PAUSE

KEY_PURPOSE = "tenant-backup"
log = structlog.get_logger()
Versions = dict[str, list[WorkflowDefinition]]  # a source definition id → its checked versions, oldest first


def backup_key(settings: Settings) -> bytes:
    """The key that signs and verifies backups; 503 while the platform has no LEVQOR_SECRETS_KEY."""
    if settings.levqor_secrets_key is None:
        raise ApiError(503, "secrets_not_configured", tr("Set LEVQOR_SECRETS_KEY to sign and verify tenant backups"))
    return derived_key(settings.levqor_secrets_key.get_secret_value(), KEY_PURPOSE)


async def export_backup(
    engine: Engine, temporal: Client, settings: Settings, tenant: Tenant, actor: str
) -> TenantBackup:
    """The tenant's configuration as one signed document (audited). 409 `backup_too_large` when it holds more
    than a restore accepts (counts, or API_MAX_BODY_BYTES as JSON), so every backup made can be restored."""
    key = backup_key(settings)
    schedules = await list_schedules(temporal, tenant.id, MAX_SCHEDULES + 1)
    document = await to_thread.run_sync(_signed_backup, engine, tenant, schedules, key, settings.api_max_body_bytes)
    await to_thread.run_sync(_audit, engine, tenant.id, actor, "tenant.backup_exported", _counts(document))
    return document


def _signed_backup(
    engine: Engine, tenant: Tenant, schedules: list[SchedulePublic], key: bytes, max_bytes: int
) -> TenantBackup:
    """Read, measured and signed in a worker thread: a large tenant's JSON must not hold up the event loop."""
    body = _backup_body(engine, tenant, schedules)
    plain = body.model_dump(mode="json")
    _check_size(len(canonical_json(plain)), max_bytes)
    return TenantBackup(**dict(body), signature=BackupSignature(value=sign_json(plain, key)))


def _backup_body(engine: Engine, tenant: Tenant, schedules: list[SchedulePublic]) -> TenantBackupBody:
    with Session(engine) as session:
        stored = definitions_with_versions(session, tenant.id)
        hooks = tenant_hooks(session, tenant.id)
        secrets = secret_names(session, tenant.id)
        keys = [k for k in tenant_keys(session, tenant.id) if k.revoked_at is None]
    _check_counts(len(stored), sum(len(v) for _, v in stored), len(schedules), len(secrets), len(keys))
    return TenantBackupBody(
        exported_at=datetime.now(UTC),
        source_tenant=BackupTenant(id=tenant.id, name=tenant.name, plan=tenant.plan),
        definitions=[_definition(row, versions) for row, versions in stored],
        schedules=[_schedule(s) for s in schedules],
        webhooks=[
            BackupWebhook(
                workflow_id=h.definition_id,
                signed=h.signed,
                wait_for_result=h.wait_for_result,
                wait_timeout_s=h.wait_timeout_s,
            )
            for h in hooks
        ],
        secrets=[BackupSecret(name=s.name) for s in secrets],
        identities=BackupIdentities(
            api_keys=[BackupApiKey(prefix=k.prefix, role=k.role, label=k.label, created_at=k.created_at) for k in keys]
        ),
    )


def _definition(row: WorkflowDefinitionRow, versions: list[WorkflowVersionRow]) -> BackupDefinition:
    return BackupDefinition(
        id=row.id,
        name=row.name,
        versions=[BackupVersion(version=v.version, created_at=v.created_at, definition=v.body) for v in versions],
    )


def _schedule(found: SchedulePublic) -> BackupSchedule:
    """The schedule as its tenant set it: a pause the platform made (a suspended tenant) is not the tenant's."""
    by_platform = found.paused and (found.note or "").startswith(LIFECYCLE_PAUSE)
    return BackupSchedule(
        id=found.id,
        workflow_id=found.workflow_id,
        version=found.version,
        cron=found.cron,
        interval_s=found.interval_s,
        timezone=found.timezone,
        input=found.input,
        overlap=found.overlap,
        paused=found.paused and not by_platform,
        note=None if by_platform or found.note is None else found.note[:500],
    )


def _check_counts(definitions: int, versions: int, schedules: int, secrets: int, keys: int) -> None:
    limits = {
        "definitions": (definitions, MAX_DEFINITIONS),
        "versions": (versions, MAX_VERSIONS),
        "schedules": (schedules, MAX_SCHEDULES),
        "secrets": (secrets, MAX_ITEMS),
        "api_keys": (keys, MAX_ITEMS),
    }
    over = {name: {"count": count, "limit": limit} for name, (count, limit) in limits.items() if count > limit}
    if over:
        listing = ", ".join(f"{n} over {v['limit']}" for n, v in over.items())
        message = tr("The tenant holds more than a backup may: %(over)s", over=listing)
        raise ApiError(409, "backup_too_large", message, field=None, over=over)


def _check_size(size: int, limit: int) -> None:
    if size > limit - 1024:  # the restore's body must fit API_MAX_BODY_BYTES, whoever re-serialises it
        message = tr(
            "The backup would take %(size)s bytes; a restore takes at most %(limit)s (API_MAX_BODY_BYTES)",
            size=size,
            limit=limit,
        )
        raise ApiError(409, "backup_too_large", message, field=None, size=size, limit=limit)


def _counts(body: TenantBackupBody) -> dict[str, int]:
    """What a backup holds, for the audit log (never names or settings)."""
    return {
        "definitions": len(body.definitions),
        "versions": sum(len(d.versions) for d in body.definitions),
        "schedules": len(body.schedules),
        "webhooks": len(body.webhooks),
    }


def read_backup(raw: dict[str, Any], key: bytes) -> TenantBackup:
    """The document, once its format, format version and signature hold (in that order), parsed and its
    references checked; 422 `backup_format_unknown`, `backup_version_unsupported`, `backup_signature_invalid`,
    `invalid_backup` or `too_many_versions`."""
    if raw.get("format") != BACKUP_FORMAT:
        message = tr("Not a Levqor tenant backup: `format` must be %(format)s", format=repr(BACKUP_FORMAT))
        raise ApiError(422, "backup_format_unknown", message, field="body.format")
    version = raw.get("format_version")
    if type(version) is not int or version != BACKUP_FORMAT_VERSION:
        message = tr("Backup format version %(version)s is not one this platform restores", version=repr(version))
        raise ApiError(
            422, "backup_version_unsupported", message, field="body.format_version", supported=[BACKUP_FORMAT_VERSION]
        )
    _check_signature(raw, key)
    try:
        document = TenantBackup.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        path = "body" + json_path(*first["loc"])[1:]
        problem = validation_message(first)
        raise ApiError(
            422, "invalid_backup", tr("%(field)s: %(problem)s", field=path, problem=problem), field=path
        ) from None
    _check_references(document)
    return document


def _check_signature(raw: dict[str, Any], key: bytes) -> None:
    signature = raw.get("signature")
    value = signature.get("value") if isinstance(signature, dict) else None
    algorithm = signature.get("algorithm") if isinstance(signature, dict) else None
    body = {name: item for name, item in raw.items() if name != "signature"}
    try:
        valid = isinstance(value, str) and algorithm == SIGNATURE_ALGORITHM and signed_by(body, value, key)
    except (ValueError, RecursionError):  # NaN, a lone surrogate, nesting Python cannot write back
        valid = False
    if not valid:
        message = tr("The backup's signature does not match it: it was changed after export, or exported elsewhere")
        raise ApiError(422, "backup_signature_invalid", message, field="body.signature")


async def restore_backup(
    engine: Engine, temporal: Client, settings: Settings, tenant_id: str, raw: dict[str, Any], actor: str
) -> TenantRestored:
    """Creates the document's definitions (every version, numbers kept), webhooks (new credentials, shown only
    in this answer) and schedules in the tenant, which must be active (403) and empty (409 `tenant_not_empty`).
    Everything is checked first (422 as `read_backup` says, `invalid_definition`, the schedule's own errors, 403
    and 429 from admission); nothing is left behind when a step fails."""
    document = await to_thread.run_sync(read_backup, raw, backup_key(settings))  # up to API_MAX_BODY_BYTES of JSON
    await to_thread.run_sync(check_active, engine, tenant_id)
    await _check_empty(engine, temporal, tenant_id)
    versions = await to_thread.run_sync(_checked_versions, engine, tenant_id, document)
    await _check_schedules(engine, temporal, tenant_id, document, versions)
    definitions = await to_thread.run_sync(_store_definitions, engine, tenant_id, document, versions)
    ids = {d.source_id: d.id for d in definitions}
    schedules: list[RestoredSchedule] = []
    try:
        hooks = await to_thread.run_sync(_restore_hooks, engine, settings, tenant_id, document, ids)
        for index, schedule in enumerate(document.schedules):
            try:
                schedules.append(await _restore_schedule(engine, temporal, settings, tenant_id, schedule, ids))
            except ApiError as err:  # what only the server judges, e.g. a cron value
                raise _within(f"body.schedules[{index}]", err) from None
    except Exception:
        await _undo(engine, temporal, list(ids.values()), [s.id for s in schedules])
        raise
    answer = _restored(tenant_id, document, definitions, schedules, hooks)
    await to_thread.run_sync(_audit, engine, tenant_id, actor, "tenant.backup_restored", answer.created.model_dump())
    return answer


def _check_references(document: TenantBackup) -> None:
    """Source ids are unique, versions run 1..N, and schedules and hooks name a definition of the document."""
    total = sum(len(d.versions) for d in document.definitions)
    if total > MAX_VERSIONS:
        message = tr("A backup holds at most %(limit)s versions", limit=MAX_VERSIONS)
        raise ApiError(422, "too_many_versions", message, "body.definitions")
    known: set[str] = set()
    for index, definition in enumerate(document.definitions):
        if definition.id in known:
            raise ApiError(422, "invalid_backup", tr("Definition ids repeat"), field=f"body.definitions[{index}].id")
        known.add(definition.id)
        if [v.version for v in definition.versions] != list(range(1, len(definition.versions) + 1)):
            message = tr("A definition's versions must be numbered 1..N in order")
            raise ApiError(422, "invalid_backup", message, field=f"body.definitions[{index}].versions")
    for index, schedule in enumerate(document.schedules):
        if schedule.workflow_id not in known:
            raise ApiError(
                422, "invalid_backup", tr("Names no definition of this backup"), f"body.schedules[{index}].workflow_id"
            )
    hooked: set[str] = set()
    for index, hook in enumerate(document.webhooks):
        if hook.workflow_id not in known or hook.workflow_id in hooked:
            message = tr("Names no definition of this backup, or one that has a hook already")
            raise ApiError(422, "invalid_backup", message, field=f"body.webhooks[{index}].workflow_id")
        hooked.add(hook.workflow_id)


async def _check_empty(engine: Engine, temporal: Client, tenant_id: str) -> None:
    found = await to_thread.run_sync(_stored_counts, engine, tenant_id)
    found["schedules"] = len(await list_schedules(temporal, tenant_id, 1))
    if any(found.values()):
        held = ", ".join(k for k, n in found.items() if n)
        message = tr("Restore only into an empty tenant: it has %(held)s", held=held)
        raise ApiError(409, "tenant_not_empty", message, field="tenant_id", found=found)


def _stored_counts(engine: Engine, tenant_id: str) -> dict[str, int]:
    with Session(engine) as session:
        return {
            "definitions": len(list_definitions(session, tenant_id)),
            "webhooks": len(tenant_hooks(session, tenant_id)),
            "secrets": len(secret_names(session, tenant_id)),
        }


def _checked_versions(engine: Engine, tenant_id: str, document: TenantBackup) -> Versions:
    """Every version through the language's validator, against the target tenant's plan; the first invalid
    one answers 422 `invalid_definition` with its report and its place in the document."""
    checked: Versions = {}
    with Session(engine) as session:
        for index, definition in enumerate(document.definitions):
            for number, version in enumerate(definition.versions):
                place = f"body.definitions[{index}].versions[{number}].definition"
                try:
                    parsed = checked_definition(session, version.definition, tenant_id)
                except ApiError as err:
                    raise _within(place, err) from None
                checked.setdefault(definition.id, []).append(parsed)
    return checked


async def _check_schedules(
    engine: Engine, temporal: Client, tenant_id: str, document: TenantBackup, versions: Versions
) -> None:
    """Each schedule's body and input as creating it checks them, and whether the tenant may run each
    scheduled definition (the admission every schedule passes)."""
    for index, schedule in enumerate(document.schedules):
        latest = versions[schedule.workflow_id][-1]
        try:
            check_schedule(schedule)
            check_input(latest, schedule.input)
        except ApiError as err:
            raise _within(f"body.schedules[{index}]", err) from None
    for workflow_id in {s.workflow_id for s in document.schedules}:
        await check_may_run(engine, temporal, tenant_id, versions[workflow_id][-1])


def _within(place: str, err: ApiError) -> ApiError:
    """`err` with its field read from `place` in the document (a definition's `$.steps[0]`, a body's `cron`)."""
    tail = (err.field or "").removeprefix("body").removeprefix("$")
    if tail and not tail.startswith((".", "[")):
        tail = "." + tail
    message = tr("%(field)s: %(problem)s", field=place.removeprefix("body."), problem=err.message)
    return ApiError(err.status, err.code, message, field=place + tail, **err.extra)


def _store_definitions(
    engine: Engine, tenant_id: str, document: TenantBackup, versions: Versions
) -> list[RestoredDefinition]:
    """Every definition with its versions in one transaction, with the tenant row locked (PostgreSQL) and its
    emptiness checked again, so two restores into one tenant cannot both write."""
    with Session(engine, expire_on_commit=False) as session:
        session.exec(select(Tenant).where(Tenant.id == tenant_id).with_for_update()).first()
        if list_definitions(session, tenant_id):
            raise ApiError(409, "tenant_not_empty", tr("Another change stored definitions first"), field="tenant_id")
        restored = []
        for definition in document.definitions:
            row = add_definition(session, tenant_id, versions[definition.id])
            restored.append(
                RestoredDefinition(source_id=definition.id, id=row.id, name=row.name, versions=row.latest_version)
            )
        session.commit()
    return restored


def _restore_hooks(
    engine: Engine, settings: Settings, tenant_id: str, document: TenantBackup, ids: dict[str, str]
) -> list[RestoredWebhook]:
    restored = []
    with Session(engine, expire_on_commit=False) as session:
        for hook in document.webhooks:
            config = WebhookConfig.model_validate(hook.model_dump(exclude={"workflow_id"}))
            created, _ = put_hook(session, ids[hook.workflow_id], tenant_id, config, settings)
            restored.append(RestoredWebhook(source_workflow_id=hook.workflow_id, **created.model_dump()))
    return restored


async def _restore_schedule(
    engine: Engine, temporal: Client, settings: Settings, tenant_id: str, schedule: BackupSchedule, ids: dict[str, str]
) -> RestoredSchedule:
    body = ScheduleCreate.model_validate(schedule.model_dump(include=set(ScheduleCreate.model_fields)))
    created = await create_schedule(engine, temporal, settings, ids[schedule.workflow_id], tenant_id, body)
    return RestoredSchedule(
        source_id=schedule.id,
        id=created.id,
        source_workflow_id=schedule.workflow_id,
        workflow_id=created.workflow_id,
        version=created.version,
        paused=created.paused,
    )


async def _undo(engine: Engine, temporal: Client, definition_ids: list[str], schedule_ids: list[str]) -> None:
    """Removes what a failed restore created: its schedules, then its hooks, versions and definitions. Logs
    (never raises) what it could not remove, so the caller sees the error that stopped the restore."""
    for schedule_id in schedule_ids:
        try:
            await delete_schedule(temporal, schedule_id)
        except Exception as err:
            log.warning("restored schedule not removed", schedule_id=schedule_id, error_type=type(err).__name__)
    try:
        await to_thread.run_sync(_forget_definitions, engine, definition_ids)
    except Exception as err:
        log.warning("restored definitions not removed", definitions=definition_ids, error_type=type(err).__name__)


def _forget_definitions(engine: Engine, definition_ids: list[str]) -> None:
    with Session(engine) as session:
        session.execute(delete(WebhookTrigger).where(col(WebhookTrigger.definition_id).in_(definition_ids)))
        session.execute(delete(WorkflowVersionRow).where(col(WorkflowVersionRow.definition_id).in_(definition_ids)))
        session.execute(delete(WorkflowDefinitionRow).where(col(WorkflowDefinitionRow.id).in_(definition_ids)))
        session.commit()


def _restored(
    tenant_id: str,
    document: TenantBackup,
    definitions: list[RestoredDefinition],
    schedules: list[RestoredSchedule],
    hooks: list[RestoredWebhook],
) -> TenantRestored:
    counts = RestoreCounts(
        definitions=len(definitions),
        versions=sum(d.versions for d in definitions),
        schedules=len(schedules),
        webhooks=len(hooks),
    )
    return TenantRestored(
        tenant_id=tenant_id,
        source_tenant=document.source_tenant,
        created=counts,
        definitions=definitions,
        schedules=schedules,
        webhooks=hooks,
        secrets_to_set=[s.name for s in document.secrets],
        api_keys_not_restored=document.identities.api_keys,
        users_not_restored=document.identities.users,
    )


def _audit(engine: Engine, tenant_id: str, actor: str, action: str, detail: dict[str, Any]) -> None:
    with Session(engine) as session:
        session.add(AuditEntry(tenant_id=tenant_id, actor=actor[:100], action=action, detail=detail))
        session.commit()
