"""Platform settings, read from the environment (prefix-free names, as the README lists them)."""

from functools import cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from rules.retention import PLATFORM_DEFAULT_DAYS
from schemas.cost import CostAutopilotInput
from schemas.retention import MAX_RETENTION_DAYS, PlatformRetention
from schemas.runs import RetryDefaults
from schemas.toggles import LaunchStage

VERSION = "0.1.0"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///.data/levqor.db"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "levqor"
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"

    levqor_founder_token: SecretStr = Field(min_length=16)
    # Fernet key that encrypts tenant secrets at rest; without it the secrets API answers 503. It also wraps the
    # per-tenant data keys of the payload codec that encrypts user runs in Temporal (off without it).
    levqor_secrets_key: SecretStr | None = None
    # How long a process keeps a tenant's data key in memory: a purge destroys the key for every process within it.
    payload_key_cache_ttl_s: float = Field(default=30.0, gt=0, le=300)
    # Origins (the Temporal UI's) allowed to call the codec server at /api/codec with the founder token.
    codec_cors_origins: list[str] = Field(default_factory=lambda: ["http://localhost:8233", "http://127.0.0.1:8233"])
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # The API process hosts a worker too, so runs started through it use eager workflow start.
    api_embedded_worker: bool = True

    levqor_http_allow_private: bool = False
    http_max_response_bytes: int = 256 * 1024
    http_max_redirects: int = 5

    webhook_max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=2 * 1024 * 1024)
    # An API process trusts what it read about a key (revoked? its tenant suspended?) for at most this long,
    # counted from the read: use does not extend it. A revocation in the same process takes effect at once.
    api_key_cache_ttl_s: float = Field(default=5.0, gt=0, le=5.0)
    # A signed webhook delivery's X-Levqor-Timestamp may be this far from the server's clock, either way.
    webhook_signature_tolerance_s: int = Field(default=300, ge=1, le=300)
    # Every route's body cap, checked before routing and authentication (api/body_limit.py); above the routes'
    # own caps (webhooks, telemetry, definitions) and a Temporal payload (2 MiB) in base64 for the codec server.
    api_max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024, le=64 * 1024 * 1024)

    retry_initial_interval_s: float = 1.0
    retry_max_interval_s: float = 300.0
    retry_max_attempts: int = 5

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_sender: str = "levqor@localhost"

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    # One request of the Brain to the AI provider (a draft, a diagnosis, an answer); the activity retries a timeout.
    ai_request_timeout_s: float = Field(default=30.0, gt=0, le=600)
    # The README the knowledge base is built from when the API starts (the image keeps it at /app/README.md).
    knowledge_readme_path: str = "README.md"

    # A deleted tenant can be restored for this long; then its personal data is purged.
    tenant_grace_period_s: float = Field(default=30 * 24 * 3600, gt=0)

    # AutoRecovery, a platform schedule: dry-run (suggestions only) unless AUTO_RECOVERY_APPLY is on.
    auto_recovery_interval_s: int = Field(default=300, ge=10)
    auto_recovery_apply: bool = False
    auto_recovery_max_redrives: int = Field(default=10, ge=0, le=1000)

    # The founder's system toggles (core/toggles.py) start from these and AUTO_RECOVERY_*; once a founder changes
    # one in the Admin Power Panel, the stored value wins.
    launch_stage: LaunchStage = "post-launch"
    new_signups: bool = True
    ai_features: bool = True

    # The cost autopilot, a platform schedule: a tenant whose spend rate is above the floor and above
    # COST_SPIKE_FACTOR times its trailing average is capped until the founder lifts it.
    cost_autopilot_interval_s: int = Field(default=300, ge=10)
    cost_spike_factor: float = Field(default=3.0, gt=1)
    cost_spike_floor_usd_per_hour: float = Field(default=1.0, ge=0)
    cost_trailing_samples: int = Field(default=12, ge=1, le=1000)
    cost_throttle_max_concurrent_runs: int = Field(default=2, ge=0)

    # The UpgradePlanner, a platform schedule: design-only plans; open ones nothing proposes for this long are archived.
    upgrade_planner_interval_s: int = Field(default=6 * 3600, ge=60)
    upgrade_plan_stale_after_s: float = Field(default=7 * 24 * 3600, ge=0)

    # Usage counts wait in a local outbox (one file per process, under a folder per database) until they are
    # written, every USAGE_FLUSH_INTERVAL_S; during a database outage the file is compacted past the bound.
    usage_outbox_dir: str = ".data/usage-outbox"
    usage_flush_interval_s: float = Field(default=5.0, gt=0, le=300)
    usage_outbox_compact_bytes: int = Field(default=1024 * 1024, ge=4096)

    max_activity_concurrency: int = 200
    # Workflow-task slots: a run starts eagerly (in the API process, no task-queue round trip) only while a slot
    # is free; at 100, 106 of 200 concurrent starts went through the queue, at 400 none (bench.throughput).
    max_workflow_task_concurrency: int = 400
    # Runs a worker keeps in memory between their tasks (the SDK's sticky cache); an evicted run replays its
    # history on its next task. Memory per cached run is a few KB to tens of KB.
    worker_max_cached_workflows: int = Field(default=1000, ge=0)

    # Run history (issue 12). Temporal keeps a closed run for TEMPORAL_RETENTION_DAYS (set on the namespace at
    # start-up, never left at the server's default); the RunArchiver, a platform schedule every
    # RUN_ARCHIVE_INTERVAL_S, copies closed runs into the run archive before that, where the tenant's history
    # retention keeps them. RUN_ARCHIVE_LAG_S: how long after a run closed the archiver takes it (visibility may lag).
    # At most 7: no tenant's history retention is shorter (rules/retention.py), so Temporal never still lists a
    # run the tenant's policy has dropped.
    temporal_retention_days: int = Field(default=3, ge=1, le=7)
    run_archive_interval_s: int = Field(default=60, ge=5)
    run_archive_lag_s: float = Field(default=60.0, ge=0)

    def run_archive_behind_after_s(self) -> float:
        """How old the newest archived closing may be before the heartbeat calls the run archive behind: ten
        passes' worth (20 minutes by default)."""
        return 10 * (self.run_archive_interval_s + self.run_archive_lag_s)

    # ComplianceAudit, a daily platform schedule at COMPLIANCE_AUDIT_HOUR_UTC: passive, it reports and never changes
    # data. A critical finding e-mails FOUNDER_EMAIL (none sent when unset). LOG_FILE, when set, also receives the
    # application log, and the audit searches it for tenant secrets.
    compliance_audit_hour_utc: int = Field(default=3, ge=0, le=23)
    # Audit entries of no tenant (the platform's own); tenants' data follows their plan (rules/retention.py).
    data_retention_days: int = Field(default=PLATFORM_DEFAULT_DAYS["platform_audit_log"], ge=1, le=MAX_RETENTION_DAYS)
    dsar_warning_days: int = Field(default=7, ge=0, le=30)
    api_key_unused_days: int = Field(default=90, ge=1)
    founder_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    log_file: str | None = None

    # Platform health (issue 5): Heartbeat and DailyReport schedules, Stripe reachability, telemetry, metrics.
    stripe_api_key: SecretStr | None = None
    stripe_api_base: str | None = None
    heartbeat_interval_s: int = Field(default=60, ge=10)
    daily_report_hour_utc: int = Field(default=6, ge=0, le=23)
    # Retention of the platform's own records (rules/retention.py; the RetentionEnforcer deletes by them).
    health_retention_days: int = Field(default=PLATFORM_DEFAULT_DAYS["health_records"], ge=1, le=MAX_RETENTION_DAYS)
    telemetry_retention_days: int = Field(
        default=PLATFORM_DEFAULT_DAYS["platform_telemetry"], ge=1, le=MAX_RETENTION_DAYS
    )
    telemetry_max_batch: int = Field(default=500, ge=1, le=5000)
    telemetry_max_body_bytes: int = Field(default=512 * 1024, ge=1024, le=8 * 1024 * 1024)
    telemetry_slow_request_ms: float = Field(default=2000, gt=0)
    telemetry_flush_interval_s: float = Field(default=2.0, gt=0)
    # The RetentionEnforcer, a daily platform schedule at RETENTION_ENFORCER_HOUR_UTC:00 UTC, deletes what is past
    # its retention in batches of RETENTION_BATCH_SIZE rows.
    retention_enforcer_hour_utc: int = Field(default=2, ge=0, le=23)
    retention_batch_size: int = Field(default=1000, ge=1, le=10_000)
    # host:port where the worker serves the Temporal SDK's Prometheus metrics; off when unset.
    worker_metrics_bind_address: str | None = None

    # Platform backups (PlatformBackup, a daily schedule at BACKUP_HOUR_UTC): the application database into
    # BACKUP_DIR with a manifest each, verified by a restore into a scratch database; KEEP_DAILY/KEEP_WEEKLY copies
    # are kept. The heartbeat's backup check fails when the latest is older than BACKUP_STALE_AFTER_H or failed.
    backup_dir: str = ".data/backups"
    backup_schedule_enabled: bool = True
    backup_hour_utc: int = Field(default=2, ge=0, le=23)
    backup_keep_daily: int = Field(default=7, ge=1)
    backup_keep_weekly: int = Field(default=4, ge=0)
    backup_stale_after_h: float = Field(default=26, gt=0)

    # Stripe billing (STRIPE_API_KEY and STRIPE_API_BASE above). Without STRIPE_API_KEY checkout answers 503
    # billing_not_configured; without STRIPE_WEBHOOK_SECRET the webhook does. STRIPE_API_BASE None: the real API.
    # STRIPE_PRICES maps an item to its Stripe price id as JSON: {"pro": "price_...", "pro:IN": "price_...",
    # "dfy_growth": "price_..."}; "<item>:<REGION>" is the regional price, used when configured.
    stripe_webhook_secret: SecretStr | None = None
    stripe_prices: dict[str, str] = Field(default_factory=dict)
    billing_success_url: str = "http://127.0.0.1:8000/billing/success?session_id={CHECKOUT_SESSION_ID}"
    billing_cancel_url: str = "http://127.0.0.1:8000/billing/cancelled"
    billing_portal_return_url: str = "http://127.0.0.1:8000/billing"
    # Dunning: after a failed payment the tenant has this long to pay, reminded by e-mail every interval,
    # then it is suspended until it pays.
    dunning_grace_period_s: float = Field(default=7 * 24 * 3600, gt=0)
    dunning_reminder_interval_s: float = Field(default=2 * 24 * 3600, gt=0)

    # The web app (api/web): magic sign-in links e-mailed through SMTP_* and server-side sessions. WEB_BASE_URL is where
    # links point (never the request's Host header, which a stranger chooses). A session ends after
    # WEB_SESSION_IDLE_S without a request or WEB_SESSION_MAX_AGE_S after sign-in, whichever comes first. Link requests
    # are limited per e-mail address and per client address within SIGN_IN_RATE_WINDOW_S.
    web_base_url: str = "http://127.0.0.1:8000"
    sign_in_link_ttl_s: int = Field(default=900, ge=60, le=900)
    web_session_idle_s: int = Field(default=12 * 3600, ge=60)
    # How often the Admin Power Panel's live parts (overview tiles, approval queue) ask the server again.
    panel_poll_s: int = Field(default=5, ge=1, le=300)
    web_session_max_age_s: int = Field(default=7 * 24 * 3600, ge=60)
    sign_in_links_per_email: int = Field(default=5, ge=1)
    sign_in_links_per_ip: int = Field(default=20, ge=1)
    sign_in_rate_window_s: int = Field(default=900, ge=1)

    # The support desk: the public contact form is limited per e-mail address and per client address within
    # SUPPORT_CONTACT_WINDOW_S. Founders reply by e-mail to support+<token>@SUPPORT_REPLY_DOMAIN (the SMTP sender's
    # domain when unset); the inbound-mail provider posts those mails to /api/support/inbound-email with
    # SUPPORT_INBOUND_SECRET in the X-Levqor-Inbound-Secret header (404 `inbound_mail_off` while it is unset).
    support_contact_per_email: int = Field(default=3, ge=1)
    support_contact_per_ip: int = Field(default=10, ge=1)
    support_contact_window_s: int = Field(default=3600, ge=1)
    support_reply_domain: str | None = Field(default=None, pattern=r"^[^@\s]+$")
    support_inbound_secret: SecretStr | None = None

    def cost_autopilot_input(self, tenant_ids: list[str] | None = None) -> CostAutopilotInput:
        """The cost autopilot's thresholds, as its runs carry them."""
        return CostAutopilotInput(
            spike_factor=self.cost_spike_factor,
            floor_micros_per_hour=round(self.cost_spike_floor_usd_per_hour * 1e6),
            trailing_samples=self.cost_trailing_samples,
            throttle_max_concurrent_runs=self.cost_throttle_max_concurrent_runs,
            tenant_ids=tenant_ids,
        )

    def platform_retention(self) -> PlatformRetention:
        """The platform classes' retention, as the RetentionEnforcer and the compliance audit carry it."""
        return PlatformRetention(
            health_records=self.health_retention_days,
            platform_telemetry=self.telemetry_retention_days,
            platform_audit_log=self.data_retention_days,
        )

    def retry_defaults(self) -> RetryDefaults:
        """The platform's retry policy for side-effecting steps, as runs carry it."""
        return RetryDefaults(
            initial_interval_s=self.retry_initial_interval_s,
            max_interval_s=self.retry_max_interval_s,
            max_attempts=self.retry_max_attempts,
        )


@cache
def get_settings() -> Settings:
    return Settings()


class CliSettings(BaseSettings):
    """What the `levqor` command line reads, from the environment and `.env` as the server does: the API to
    call (LEVQOR_API_URL, else the server's own API_HOST and API_PORT) and the founder token
    (LEVQOR_FOUNDER_TOKEN); its options override both."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    levqor_api_url: str | None = None
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    levqor_founder_token: SecretStr | None = None

    @property
    def api_url(self) -> str:
        """LEVQOR_API_URL, or the address the server listens on (a wildcard host is reached on loopback)."""
        if self.levqor_api_url:
            return self.levqor_api_url
        host = "127.0.0.1" if self.api_host in ("0.0.0.0", "::", "") else self.api_host
        return f"http://{host}:{self.api_port}"
