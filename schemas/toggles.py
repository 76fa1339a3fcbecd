"""The founder's system toggles: what they are now, and a change of one (with who, when and why in the audit log).

Stored durably (core/toggles.py reads them, cached for at most a few seconds, so the code each one governs follows a
change within seconds); the environment only sets their first values."""

from typing import Literal

from pydantic import BaseModel, Field

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
