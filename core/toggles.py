"""Reading the founder's system toggles: the stored values (schemas/tables.py SystemToggle) over the initial values
from settings, cached per engine for at most CACHE_S so that every process follows a change within seconds.

Changes go through domain/toggles.py, which validates and audits them and forgets this process's cached copy."""

import time
from typing import Any
from weakref import WeakKeyDictionary

import structlog
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, select

from core.settings import Settings
from schemas.tables import SystemToggle
from schemas.toggles import SystemToggles

CACHE_S = 2.0

_initial: WeakKeyDictionary[Engine, SystemToggles] = WeakKeyDictionary()
_cached: WeakKeyDictionary[Engine, tuple[float, SystemToggles]] = WeakKeyDictionary()


def initial_toggles(settings: Settings) -> SystemToggles:
    """The toggles' values before any founder changes them: LAUNCH_STAGE, NEW_SIGNUPS, AI_FEATURES, AUTO_RECOVERY_*."""
    return SystemToggles(
        launch_stage=settings.launch_stage,
        auto_recovery_apply=settings.auto_recovery_apply,
        auto_recovery_max_redrives=settings.auto_recovery_max_redrives,
        ai_features=settings.ai_features,
        new_signups=settings.new_signups,
    )


def use_initial_toggles(engine: Engine, settings: Settings) -> None:
    """Makes settings the initial values of the toggles read through `engine` (the API's and the worker's start-up);
    an engine nobody registered reads SystemToggles' defaults, which are the settings' defaults."""
    _initial[engine] = initial_toggles(settings)
    _cached.pop(engine, None)


def read_toggles(engine: Engine) -> SystemToggles:
    """The toggles now, at most CACHE_S old; one small query when the cached copy has expired."""
    now = time.monotonic()
    cached = _cached.get(engine)
    if cached is not None and now - cached[0] < CACHE_S:
        return cached[1]
    with Session(engine) as session:
        toggles = load_toggles(session, _initial.get(engine, SystemToggles()))
    _cached[engine] = (now, toggles)
    return toggles


def initial_for(engine: Engine) -> SystemToggles:
    """The values the toggles read through `engine` start from."""
    return _initial.get(engine, SystemToggles())


def load_toggles(session: Session, initial: SystemToggles) -> SystemToggles:
    """The stored values over `initial`, uncached. A stored value that no longer fits the shape keeps the initial
    one (and is logged), so a bad row never stops admission."""
    values: dict[str, Any] = initial.model_dump()
    for row in session.exec(select(SystemToggle)).all():
        if row.name not in SystemToggles.model_fields:
            continue
        try:
            values = SystemToggles.model_validate({**values, row.name: row.value}).model_dump()
        except ValidationError:
            structlog.get_logger().warning("stored toggle ignored", toggle=row.name)
    return SystemToggles.model_validate(values)


def forget_toggles(engine: Engine) -> None:
    """Drops this process's cached copy, so the next read sees a change made just now."""
    _cached.pop(engine, None)
