"""What the system toggles page says about each toggle: its name, what it governs, its values as words, and the
question and consequences its confirmation step asks about (maintenance mode and the launch stage)."""

from typing import Any

from schemas.i18n import Text, tr

LABELS: dict[str, Text] = {
    "maintenance": tr("Maintenance mode"),
    "maintenance_message": tr("Maintenance message"),
    "launch_stage": tr("Launch stage"),
    "new_signups": tr("New sign-ups"),
    "ai_features": tr("AI features"),
    "auto_recovery_apply": tr("AutoRecovery applies re-drives"),
    "auto_recovery_max_redrives": tr("AutoRecovery re-drives per cycle"),
}
EFFECTS: dict[str, Text] = {
    "maintenance": tr(
        "On: every new run is refused with 503 maintenance (webhooks with Retry-After) and signed-in users see a "
        "banner; runs in flight go on, and changes that start no run still work."
    ),
    "launch_stage": tr(
        "Pre-launch: growth and marketing automations only dry-run, and every outbound campaign waits for your "
        "approval. Post-launch: they run for real."
    ),
    "new_signups": tr("On: new teams can sign up at /sign-up. Off: the sign-up page says sign-ups are closed."),
    "ai_features": tr("Off: runs whose workflows have AI steps are refused, and AI steps already running fail."),
    "auto_recovery_apply": tr(
        "On: each AutoRecovery cycle re-drives transient failures. Off: it only writes healing suggestions."
    ),
    "auto_recovery_max_redrives": tr("The most runs one AutoRecovery cycle re-drives."),
}
ORDER = (
    "maintenance",
    "launch_stage",
    "new_signups",
    "ai_features",
    "auto_recovery_apply",
    "auto_recovery_max_redrives",
)
VALUE_WORDS: dict[Any, Text] = {
    True: tr("On"),
    False: tr("Off"),
    "pre-launch": tr("Pre-launch"),
    "post-launch": tr("Post-launch"),
    None: tr("None"),
}
CONFIRM_QUESTIONS: dict[tuple[str, Any], Text] = {
    ("maintenance", True): tr("Turn maintenance mode on?"),
    ("maintenance", False): tr("Turn maintenance mode off?"),
    ("launch_stage", "pre-launch"): tr("Go back to pre-launch?"),
    ("launch_stage", "post-launch"): tr("Launch: switch to post-launch?"),
}
CONFIRM_EFFECTS: dict[tuple[str, Any], Text] = {
    ("maintenance", True): tr(
        "From now on every new run is refused, on every tenant, until you turn it off; runs in flight go on."
    ),
    ("maintenance", False): tr("New runs can start again, from every entry point."),
    ("launch_stage", "pre-launch"): tr(
        "Growth and marketing automations go back to dry runs, and outbound campaigns wait for your approval."
    ),
    ("launch_stage", "post-launch"): tr(
        "Growth and marketing automations start running for real, and approved campaigns go out to real people."
    ),
}
