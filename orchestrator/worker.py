"""The worker process: every workflow and activity of the platform, built once and run until signalled."""

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.ai import AiActivities, build_ai_client
from activities.billing import BillingActivities, build_stripe_client
from activities.billing_store import BillingStoreActivities
from activities.dunning import DunningActivities
from activities.email import EmailActivities
from activities.data_requests import DataRequestActivities
from activities.http import HttpActivities, build_http_client
from activities.recovery import RecoveryActivities
from activities.runs_store import RunStoreActivities
from activities.secrets import SecretStore
from activities.tenants_store import TenantStoreActivities
from core.db import create_db_engine
from core.logs import configure_logging
from core.security import SecretBox
from core.settings import Settings, get_settings
from orchestrator.auto_recovery import AutoRecovery
from orchestrator.billing_portal import BillingPortal
from orchestrator.checkout import Checkout
from orchestrator.client import TemporalRunControl, connect
from orchestrator.data_export import DataExport
from orchestrator.dunning import Dunning
from orchestrator.platform_schedules import ensure_platform_schedules
from orchestrator.stripe_event import StripeEvent
from orchestrator.tenant_lifecycle import TenantLifecycle
from orchestrator.user_run import UserWorkflowRun

ALL_WORKFLOWS = [UserWorkflowRun, AutoRecovery, TenantLifecycle, DataExport, Checkout, StripeEvent, Dunning,
                 BillingPortal]
# Compiled Jinja2 templates import jinja2's runtime when they render; it must come from outside the sandbox.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("jinja2", "markupsafe", "schemas")
)


def build_activities(settings: Settings, engine: Engine, control: TemporalRunControl) -> list:
    """Every activity, with its outside-system client built once for the worker."""
    box = SecretBox(settings.levqor_secrets_key.get_secret_value()) if settings.levqor_secrets_key else None
    http = HttpActivities(
        build_http_client(),
        allow_private=settings.levqor_http_allow_private,
        max_response_bytes=settings.http_max_response_bytes,
        max_redirects=settings.http_max_redirects,
        secrets=SecretStore(engine, box),
    )
    email = EmailActivities(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_sender,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls,
    )
    api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    ai = AiActivities(build_ai_client(api_key, settings.openai_base_url))
    store, recovery = RunStoreActivities(engine), RecoveryActivities(engine, control)
    tenants = TenantStoreActivities(engine, control)
    data_requests = DataRequestActivities(engine, control)
    stripe_key = settings.stripe_api_key.get_secret_value() if settings.stripe_api_key else None
    billing = BillingActivities(build_stripe_client(stripe_key, settings.stripe_api_base))
    billing_store = BillingStoreActivities(engine)
    dunning = DunningActivities(engine, email, control, settings.tenant_grace_period_s)
    return [
        http.call, email.send_email, ai.complete, store.record_failure,
        recovery.list_open_failures, recovery.write_assessments, recovery.redrive_failure,
        tenants.record_status, tenants.pause_schedules, tenants.purge_tenant,
        data_requests.write_export, data_requests.mark_failed,
        billing.create_checkout_session, billing.create_portal_session, billing_store.apply_event, billing_store.record_audit,
        dunning.send_notice, dunning.change_tenant,
    ]


def build_worker(client: Client, settings: Settings, engine: Engine, task_queue: str | None = None) -> Worker:
    queue = task_queue or settings.task_queue
    return Worker(
        client,
        task_queue=queue,
        workflows=ALL_WORKFLOWS,
        workflow_runner=WORKFLOW_RUNNER,
        activities=build_activities(settings, engine, TemporalRunControl(client, queue)),
        activity_executor=ThreadPoolExecutor(max_workers=settings.max_activity_concurrency),
        max_concurrent_activities=settings.max_activity_concurrency,
        max_concurrent_local_activities=settings.max_activity_concurrency,
        max_concurrent_workflow_tasks=settings.max_workflow_task_concurrency,
    )


async def serve(settings: Settings) -> None:
    """Runs a worker until SIGTERM or SIGINT, then lets in-flight tasks finish."""
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    engine = create_db_engine(settings.database_url)
    await ensure_platform_schedules(client, settings)
    async with build_worker(client, settings, engine):
        await stop.wait()
    engine.dispose()


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
