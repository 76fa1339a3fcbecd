"""Changing the founder's system toggles (validated, stored, audited with who, when and why) and the view of them:
each one's value, its last change and the history. The code each toggle governs reads them with core/toggles.py."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.errors import ApiError
from core.toggles import forget_toggles, initial_for, load_toggles
from schemas.i18n import tr
from schemas.tables import AuditEntry, SystemToggle, User
from schemas.toggles import SystemToggles, SystemTogglesUpdate, ToggleChange, ToggleName, ToggleState, TogglesView

ACTION = "system_toggle_changed"
HISTORY_LIMIT = 50
NULLABLE: frozenset[str] = frozenset({"maintenance_message"})


def change_toggles(engine: Engine, change: SystemTogglesUpdate, actor: str) -> TogglesView:
    """Stores the toggles `change` gives a new value, each with one audit entry (old and new value, who, when, why);
    nothing is written when nothing differs. This process follows at once, the others within core/toggles.CACHE_S."""
    requested = _requested(change)
    with Session(engine) as session:
        current = load_toggles(session, initial_for(engine))
        SystemToggles.model_validate({**current.model_dump(), **requested})
        now, who = datetime.now(UTC), actor[:100]
        for name, new in requested.items():
            old = getattr(current, name)
            if old == new:
                continue
            session.merge(SystemToggle(name=name, value=new, changed_by=who, changed_at=now, reason=change.reason))
            detail = {"toggle": name, "old": old, "new": new, "reason": change.reason}
            session.add(AuditEntry(tenant_id=None, actor=who, action=ACTION, detail=detail, at=now))
        session.commit()
    forget_toggles(engine)
    return toggles_view(engine)


def _requested(change: SystemTogglesUpdate) -> dict[str, Any]:
    """The toggles the change names, each with a value (only the maintenance message may be cleared)."""
    requested = change.model_dump(exclude_unset=True, exclude={"reason"})
    for name, value in requested.items():
        if value is None and name not in NULLABLE:
            raise ApiError(422, "invalid_toggle", tr("This toggle needs a value"), field=f"body.{name}")
    if requested.get("maintenance_message") == "":
        requested["maintenance_message"] = None
    return requested


def toggles_view(engine: Engine) -> TogglesView:
    """The toggles now, each one's last change and the latest HISTORY_LIMIT changes, newest first."""
    with Session(engine) as session:
        toggles = load_toggles(session, initial_for(engine))
        rows = {row.name: row for row in session.exec(select(SystemToggle)).all()}
        entries = session.exec(
            select(AuditEntry)
            .where(AuditEntry.action == ACTION)
            .order_by(col(AuditEntry.at).desc())
            .limit(HISTORY_LIMIT)
        ).all()
        names = _people(session, {row.changed_by for row in rows.values()} | {entry.actor for entry in entries})
    states = []
    for name, value in toggles.model_dump().items():
        row = rows.get(name)
        state = ToggleState(name=name, value=value)
        if row is not None:
            state.changed_by, state.changed_at, state.reason = names[row.changed_by], row.changed_at, row.reason
        states.append(state)
    history = [
        _change(entry, names[entry.actor])
        for entry in entries
        if entry.detail.get("toggle") in SystemToggles.model_fields
    ]
    return TogglesView(toggles=toggles, states=states, history=history)


def _change(entry: AuditEntry, who: str) -> ToggleChange:
    toggle: ToggleName = entry.detail["toggle"]
    detail = entry.detail
    return ToggleChange(
        name=toggle,
        old=detail.get("old"),
        new=detail.get("new"),
        changed_by=who,
        at=entry.at,
        reason=detail.get("reason", ""),
    )


def _people(session: Session, actors: set[str]) -> dict[str, str]:
    """Each audit actor as a person reads it: a user's e-mail for `user:<id>`, else the actor as recorded."""
    ids = [actor.removeprefix("user:") for actor in actors if actor.startswith("user:")]
    emails = dict(session.exec(select(User.id, User.email).where(col(User.id).in_(ids))).all()) if ids else {}
    return {actor: emails.get(actor.removeprefix("user:"), actor) for actor in actors}
