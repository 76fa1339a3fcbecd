"""The worker process: every workflow and activity of the platform, built once and run until signalled."""

import asyncio
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import stripe
from pydantic import SecretStr
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.ai import AiActivities, build_ai_client
from activities.approval_notices import ApprovalNoticeActivities
from activities.backup import BackupActivities
from activities.billing_store import BillingStoreActivities
from activities.brain import BrainActivities
from activities.compliance import ComplianceActivities
from activities.cost import CostActivities
from activities.data_requests import DataRequestActivities
from activities.diagnosis import DiagnosisActivities
from activities.drafting import DraftActivities
from activities.dunning import DunningActivities
from activities.email import EmailActivities
from activities.health import HealthActivities
from activities.help_texts import HelpTextActivities
from activities.http import HttpActivities, build_http_client
from activities.knowledge import KnowledgeActivities
from activities.recovery import RecoveryActivities
from activities.retention import RetentionActivities
from activities.run_archive import RunArchiveActivities
from activities.runs_store import RunStoreActivities
from activities.secrets import SecretStore
from activities.sign_in_mail import SignInMailActivities
from activities.stripe_api import StripeActivities, build_stripe_client
from activities.support import SupportActivities, support_reply_domain
from activities.telemetry import TelemetryActivities
from activities.tenants_store import TenantStoreActivities
from activities.upgrades import UpgradeActivities
from activities.usage import UsageActivities
from core.db import create_db_engine
from core.live_bridge import start_live_bridge
from core.logs import configure_logging
from core.metering import UsageBuffer, usage_buffer
from core.security import SecretBox
from core.settings import Settings, get_settings
from core.telemetry import TelemetryBuffer
from core.toggles import use_initial_toggles
from orchestrator.activity_telemetry import ActivityTelemetry
from orchestrator.auto_recovery import AutoRecovery
from orchestrator.billing_portal import BillingPortal
from orchestrator.checkout import Checkout
from orchestrator.compliance_audit import ComplianceAudit
from orchestrator.cost_autopilot import CostAutopilot
from orchestrator.daily_report import DailyReport
from orchestrator.data_export import DataExport
from orchestrator.dunning import Dunning
from orchestrator.heartbeat import Heartbeat
from orchestrator.help_chat import HelpChat
from orchestrator.onboarding_plan import OnboardingPlan
from orchestrator.platform_backup import PlatformBackup
from orchestrator.retention_enforcer import RetentionEnforcer
from orchestrator.run_archiver import RunArchiver
from orchestrator.run_diagnosis import RunDiagnosis
from orchestrator.run_events import RunEvents
from orchestrator.sign_in_mail import SignInMail
from orchestrator.step_metering import StepMetering
from orchestrator.stripe_event import StripeEvent
from orchestrator.support_ticket import SupportTicket
from orchestrator.tenant_lifecycle import TenantLifecycle
from orchestrator.upgrade_planner import UpgradePlanner
from orchestrator.user_run import UserWorkflowRun
from orchestrator.workflow_draft import WorkflowDraft
from starters.connection import connect, tenant_codec
from starters.platform_schedules import ensure_platform_schedules
from starters.run_archive import TemporalClosedRuns
from starters.runs import TemporalRunControl

ALL_WORKFLOWS = [
    UserWorkflowRun,
    AutoRecovery,
    TenantLifecycle,
    DataExport,
    CostAutopilot,
    UpgradePlanner,
    ComplianceAudit,
    Heartbeat,
    DailyReport,
    RetentionEnforcer,
    Checkout,
    StripeEvent,
    Dunning,
    BillingPortal,
    PlatformBackup,
    RunArchiver,
    SignInMail,
    WorkflowDraft,
    RunDiagnosis,
    HelpChat,
    OnboardingPlan,
    SupportTicket,
]
# Compiled Jinja2 templates import jinja2's runtime when they render; it must come from outside the sandbox.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("jinja2", "markupsafe", "schemas")
)
Activity = Callable[..., Any]


def build_activities(settings: Settings, engine: Engine, control: TemporalRunControl) -> list[Activity]:
    """Every activity, with its outside-system client built once for the worker."""
    box = SecretBox(settings.levqor_secrets_key.get_secret_value()) if settings.levqor_secrets_key else None
    email = EmailActivities(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_sender,
        username=settings.smtp_username,
        password=_plain(settings.smtp_password),
        starttls=settings.smtp_starttls,
    )
    stripe_client = build_stripe_client(_plain(settings.stripe_api_key), settings.stripe_api_base)
    return [
        *_run_steps(settings, engine, control, box, email),
        *_tenants(engine, control, email, settings.web_base_url),
        *_platform_jobs(engine, control),
        *_compliance(settings, engine, box, email),
        *_health(settings, engine, control, stripe_client),
        *_billing(settings, engine, control, email, stripe_client),
        *_backups(settings, engine, email),
        *_retention(engine),
        *_brain(settings, engine, email),
        SignInMailActivities(engine, email).send_sign_in_link,
        ApprovalNoticeActivities(engine, email, settings.web_base_url, settings.founder_email).notify_approvers,
    ]


def _run_steps(
    settings: Settings, engine: Engine, control: TemporalRunControl, box: SecretBox | None, email: EmailActivities
) -> list[Activity]:
    """What a tenant's run calls: its side-effecting steps, its failure record, its admission and usage count."""
    http = HttpActivities(
        build_http_client(),
        allow_private=settings.levqor_http_allow_private,
        max_response_bytes=settings.http_max_response_bytes,
        max_redirects=settings.http_max_redirects,
        secrets=SecretStore(engine, box),
    )
    ai_client = build_ai_client(_plain(settings.openai_api_key), settings.openai_base_url)
    ai = AiActivities(ai_client, engine, SecretStore(engine, box))
    store, usage = RunStoreActivities(engine), UsageActivities(engine, control)
    return [
        http.call,
        email.send_email,
        ai.complete,
        store.record_failure,
        usage.record_usage,
        usage.admit_scheduled_run,
    ]


def _tenants(engine: Engine, control: TemporalRunControl, email: EmailActivities, base_url: str) -> list[Activity]:
    """A tenant's lifecycle and its data-subject requests (an export's e-mail links to the web app at `base_url`)."""
    tenants = TenantStoreActivities(engine, control, control)
    data_requests = DataRequestActivities(engine, control, email, base_url)
    return [
        tenants.record_status,
        tenants.record_throttle,
        tenants.pause_schedules,
        tenants.cancel_runs,
        tenants.purge_tenant,
        data_requests.write_export,
        data_requests.mark_failed,
    ]


def _platform_jobs(engine: Engine, control: TemporalRunControl) -> list[Activity]:
    """Auto-recovery, the cost autopilot, the upgrade planner and the run archiver."""
    recovery, cost = RecoveryActivities(engine, control), CostActivities(engine, control)
    upgrades = UpgradeActivities(engine)
    archive = RunArchiveActivities(engine, TemporalClosedRuns(control.client))
    return [
        archive.archive_closed_runs,
        recovery.follow_toggles,
        recovery.list_open_failures,
        recovery.write_assessments,
        recovery.redrive_failure,
        cost.sample_spend,
        cost.throttle_tenant,
        upgrades.gather_signals,
        upgrades.write_plans,
    ]


def _compliance(settings: Settings, engine: Engine, box: SecretBox | None, email: EmailActivities) -> list[Activity]:
    """The compliance audit's families of checks, its report and the founder's alert."""
    compliance = ComplianceActivities(
        engine,
        box,
        settings.levqor_founder_token.get_secret_value(),
        settings.log_file,
        email,
        settings.founder_email,
    )
    return [
        compliance.check_data_requests,
        compliance.check_legal_documents,
        compliance.check_retention,
        compliance.check_access,
        compliance.check_secret_exposure,
        compliance.open_report,
        compliance.store_report,
        compliance.notify_founder,
    ]


def _health(
    settings: Settings, engine: Engine, control: TemporalRunControl, stripe_client: stripe.StripeClient | None
) -> list[Activity]:
    """The heartbeat's probes and the daily report's telemetry."""
    ai_client = build_ai_client(_plain(settings.openai_api_key), settings.openai_base_url)
    health = HealthActivities(engine, control, stripe_client, ai_client)
    telemetry = TelemetryActivities(engine)
    return [
        health.check_database,
        health.check_temporal,
        health.check_stripe,
        health.check_ai,
        health.count_recent_errors,
        health.record_health,
        telemetry.scan_anomalies,
        telemetry.gather_report_inputs,
        telemetry.write_daily_report,
    ]


def _billing(
    settings: Settings,
    engine: Engine,
    control: TemporalRunControl,
    email: EmailActivities,
    stripe_client: stripe.StripeClient | None,
) -> list[Activity]:
    """Stripe sessions, Stripe events applied to the database, and dunning."""
    stripe_api, billing_store = StripeActivities(stripe_client), BillingStoreActivities(engine)
    dunning = DunningActivities(engine, email, control, settings.tenant_grace_period_s)
    return [
        stripe_api.create_checkout_session,
        stripe_api.create_portal_session,
        billing_store.apply_event,
        billing_store.record_audit,
        dunning.send_notice,
        dunning.change_tenant,
    ]


def _backups(settings: Settings, engine: Engine, email: EmailActivities) -> list[Activity]:
    """The platform backup's steps and the heartbeat's backup check."""
    backup = BackupActivities(
        settings.database_url,
        Path(settings.backup_dir),
        engine,
        email,
        settings.founder_email,
        enabled=settings.backup_schedule_enabled,
        stale_after=timedelta(hours=settings.backup_stale_after_h),
    )
    return [
        backup.make_backup,
        backup.verify_backup,
        backup.record_backup_failure,
        backup.prune_backups,
        backup.notify_founder,
        backup.audit_backup_failure,
        backup.check_backup,
    ]


def _retention(engine: Engine) -> list[Activity]:
    """The RetentionEnforcer's report, policies and batched deletes."""
    retention = RetentionActivities(engine)
    return [retention.open_report, retention.list_policies, retention.expire_records, retention.close_report]


def _brain(settings: Settings, engine: Engine, email: EmailActivities) -> list[Activity]:
    """The Brain's AI calls and what its workflows read and write: drafts, the knowledge base, diagnoses, support."""
    box = SecretBox(settings.levqor_secrets_key.get_secret_value()) if settings.levqor_secrets_key else None
    ai_client = build_ai_client(
        _plain(settings.openai_api_key), settings.openai_base_url, settings.ai_request_timeout_s
    )
    brain = BrainActivities(ai_client, engine, SecretStore(engine, box))
    # drafting: its instance here
    drafting = DraftActivities()
    # knowledge: its instance here
    knowledge, help_texts = KnowledgeActivities(engine), HelpTextActivities()
    # diagnosis: its instance here
    diagnosis = DiagnosisActivities(engine, ai_configured=settings.openai_api_key is not None)
    # support: its instance here
    support = SupportActivities(
        engine, email, settings.web_base_url, settings.founder_email, support_reply_domain(settings)
    )
    return [
        brain.ask,
        # drafting
        drafting.brief_draft,
        drafting.check_draft,
        drafting.draft_from_template,
        # knowledge
        knowledge.search_knowledge,
        knowledge.read_tenant_context,
        help_texts.write_chat_fallback,
        help_texts.plan_onboarding_fallback,
        # diagnosis
        diagnosis.diagnose_by_rules,
        diagnosis.check_fix,
        diagnosis.pick_failures_to_diagnose,
        # support
        support.triage_ask,
        support.record_triage,
        support.escalate,
        support.deliver_message,
        support.record_closing,
        support.request_rating,
        support.notify_new_ticket,
        support.summarize_support,
    ]


def _plain(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret else None


def build_worker(
    client: Client,
    settings: Settings,
    engine: Engine,
    task_queue: str | None = None,
    telemetry: TelemetryBuffer | None = None,
    usage: UsageBuffer | None = None,
) -> Worker:
    """The worker; `telemetry` and `usage` are the process's buffers (made here when not given, for tests)."""
    queue = task_queue or settings.task_queue
    telemetry = telemetry or TelemetryBuffer(engine, "worker", settings.telemetry_flush_interval_s)
    usage = usage or usage_buffer(engine, settings)
    return Worker(
        client,
        task_queue=queue,
        workflows=ALL_WORKFLOWS,
        workflow_runner=WORKFLOW_RUNNER,
        activities=build_activities(
            settings, engine, TemporalRunControl(client, queue, settings.tenant_grace_period_s, engine)
        ),
        activity_executor=ThreadPoolExecutor(max_workers=settings.max_activity_concurrency),
        max_concurrent_activities=settings.max_activity_concurrency,
        max_concurrent_local_activities=settings.max_activity_concurrency,
        max_concurrent_workflow_tasks=settings.max_workflow_task_concurrency,
        max_cached_workflows=settings.worker_max_cached_workflows,
        interceptors=[ActivityTelemetry(telemetry), StepMetering(usage), RunEvents()],
    )


async def serve(settings: Settings) -> None:
    """Runs a worker until SIGTERM or SIGINT, then lets in-flight tasks finish."""
    engine = create_db_engine(settings.database_url)
    use_initial_toggles(engine, settings)
    client = await connect(
        settings.temporal_address,
        settings.temporal_namespace,
        runtime=metrics_runtime(settings.worker_metrics_bind_address),
        codec=tenant_codec(engine, settings.levqor_secrets_key, settings.payload_key_cache_ttl_s),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await ensure_platform_schedules(client, settings)
    telemetry = TelemetryBuffer(engine, "worker", settings.telemetry_flush_interval_s)
    usage = usage_buffer(engine, settings)
    live = await start_live_bridge(engine, listen=False)  # this worker's live events reach the API (PostgreSQL)
    async with build_worker(client, settings, engine, telemetry=telemetry, usage=usage):
        await stop.wait()
    telemetry.close()
    usage.close()
    if live is not None:
        await live.close()
    engine.dispose()


def metrics_runtime(bind_address: str | None) -> Runtime | None:
    """A Temporal runtime serving the SDK's Prometheus metrics on `bind_address` (host:port), or None."""
    if not bind_address:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address)))


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level, settings.log_file)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
