"""The founder's system toggles: what they are now, and a change of one (with who, when and why in the audit log).

Stored durably (core/toggles.py reads them, cached for at most a few seconds, so the code each one governs follows a
change within seconds); the environment only sets their first values."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

LaunchStage = Literal["pre-launch", "post-launch"]


class SystemToggles(BaseModel):
    launch_stage: LaunchStage = "post-launch"
    """pre-launch: growth and marketing automations run dry, and every outbound campaign needs a founder's approval."""
    maintenance: bool = False
    """New runs are refused with 503 `maintenance` (webhooks with Retry-After); runs in flight continue."""
    maintenance_message: str | None = Field(default=None, max_length=500)
    auto_recovery_apply: bool = False
    auto_recovery_max_redrives: int = Field(default=10, ge=0, le=1000)
    ai_features: bool = True
    new_signups: bool = True


ToggleName = Literal[
    "launch_stage",
    "maintenance",
    "maintenance_message",
    "auto_recovery_apply",
    "auto_recovery_max_redrives",
    "ai_features",
    "new_signups",
]


class SystemTogglesUpdate(BaseModel):
    """A founder's change of one or more toggles, with the reason the audit log keeps; toggles left out, or given
    their current value, stay as they are."""

    model_config = ConfigDict(extra="forbid")

    launch_stage: LaunchStage | None = None
    maintenance: bool | None = None
    maintenance_message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    auto_recovery_apply: bool | None = None
    auto_recovery_max_redrives: int | None = Field(default=None, ge=0, le=1000)
    ai_features: bool | None = None
    new_signups: bool | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class ToggleState(BaseModel):
    """One toggle's value now and its last change; `changed_at` None: it still has its initial value (settings)."""

    name: ToggleName
    value: str | bool | int | None
    changed_by: str | None = None
    changed_at: datetime | None = None
    reason: str | None = None


class ToggleChange(BaseModel):
    """One change of one toggle, as the audit log keeps it."""

    name: ToggleName
    old: str | bool | int | None
    new: str | bool | int | None
    changed_by: str
    at: datetime
    reason: str


class TogglesView(BaseModel):
    """The toggles now, each one's last change, and the latest changes, newest first."""

    toggles: SystemToggles
    states: list[ToggleState]
    history: list[ToggleChange]
