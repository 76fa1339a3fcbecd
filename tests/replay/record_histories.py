"""Records the histories the replay tests guard: `python -m tests.replay.record_histories`.

Run it when workflow behaviour changes on purpose, with a new scenario name: existing files are
never overwritten (runs already in flight were recorded by the old code and must still replay).
"""

import asyncio
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from sqlmodel import Session
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from core.db import create_db_engine, migrate
from core.settings import Settings
from core.toggles import CACHE_S as TOGGLES_CACHE_S
from domain.knowledge import sync_knowledge
from language.purpose import CAMPAIGN_REVIEW_ID
from orchestrator.auto_recovery import AutoRecovery
from orchestrator.billing_portal import BillingPortal
from orchestrator.checkout import Checkout
from orchestrator.compliance_audit import ComplianceAudit
from orchestrator.cost_autopilot import CostAutopilot
from orchestrator.daily_report import DailyReport
from orchestrator.data_export import DataExport, export_workflow_id
from orchestrator.dunning import Dunning, dunning_workflow_id
from orchestrator.heartbeat import Heartbeat
from orchestrator.help_chat import HelpChat
from orchestrator.onboarding_plan import OnboardingPlan
from orchestrator.retention_enforcer import RetentionEnforcer
from orchestrator.search_attributes import DEFINITION_ID, RUN_STATUS, TENANT_ID
from orchestrator.stripe_event import StripeEvent
from orchestrator.support_ticket import SupportTicket as SupportTicketWorkflow
from orchestrator.tenant_lifecycle import TenantLifecycle
from orchestrator.upgrade_planner import UpgradePlanner
from orchestrator.user_run import UserWorkflowRun
from orchestrator.worker import build_worker
from orchestrator.workflow_draft import WorkflowDraft
from rules.retention import default_platform_retention
from rules.usage import period_of
from schemas.billing import (
    CheckoutInput,
    DunningInput,
    DunningPolicy,
    InvoiceFailed,
    PortalInput,
    Settlement,
    StripeEventInput,
)
from schemas.brain import DraftInput, HelpChatInput, OnboardingInput
from schemas.compliance import ComplianceAuditInput
from schemas.cost import CostAutopilotInput
from schemas.daily_report import DailyReportInput
from schemas.data_requests import DataExportInput
from schemas.health import HeartbeatInput
from schemas.recovery import AutoRecoveryInput
from schemas.retention import RetentionEnforcerInput
from schemas.runs import RunInput, StepDecision
from schemas.support import CsatNotice, ReplyNotice, SupportTicketInput, TicketClosing
from schemas.tables import (
    BillingAccount,
    DataRequest,
    FailureEntry,
    HealthRecord,
    RunArchiveEntry,
    SpendSample,
    SupportMessage,
    SupportTicket,
    SystemToggle,
    TelemetryEvent,
    Tenant,
    TenantSecret,
    UsageCounter,
    User,
    WorkflowDefinitionRow,
    WorkflowVersionRow,
)
from schemas.tenants import LifecycleInput, TenantChange, TenantState, Throttle, ThrottleLift
from schemas.toggles import LaunchStage
from schemas.upgrades import UpgradePlannerInput
from starters.billing import stripe_event_workflow_id
from starters.runs import redrive_input
from tests.conftest import until
from tests.fakes.openai import FakeOpenAI, Reply
from tests.fakes.smtp import SmtpSink
from tests.fakes.stripe import API_KEY as STRIPE_KEY
from tests.fakes.stripe import FakeStripe
from tests.fakes.target import TargetServer
from tests.orchestrator.runs import FAST_RETRIES, make_run, start, until_progress

HISTORIES = Path(__file__).parent / "histories"
Scenario = Callable[[Client, str, str], Awaitable[WorkflowHandle]]


async def every_step(client: Client, queue: str, target: str) -> WorkflowHandle:
    handle = await start(
        client,
        queue,
        make_run(
            {"id": "hello", "type": "log", "message": "hello {{ input.name }}"},
            {"id": "prepare", "type": "transform", "set": {"doubled": "input.count * 2"}},
            {"id": "fetch", "type": "http_request", "url": target + "/json"},
            {"id": "slow_fetch", "type": "http_request", "url": target + "/json", "timeout_s": 60},
            {
                "id": "check",
                "type": "condition",
                "expression": "steps.fetch.body.value == 42",
                "then": "notify",
                "else": "end",
            },
            {
                "id": "notify",
                "type": "email",
                "to": ["ops@example.com"],
                "subject": "v={{ vars.doubled }}",
                "body": "ok",
            },
            {"id": "summarise", "type": "ai", "prompt": "Summarise {{ steps.fetch.body.items }}"},
            {"id": "pause", "type": "delay", "seconds": 0.2},
            {"id": "auto_gate", "type": "approval", "class": "A", "message": "automatic"},
            input={"name": "Ada", "count": 21},
        ),
    )
    await handle.result()
    return handle


async def secret_placeholder(client: Client, queue: str, target: str) -> WorkflowHandle:
    """An HTTP step that names a secret: its call carries a marker drawn by the workflow and the names the
    templates name. The recorder has no secrets key, so the step fails (SecretNotFound) without sending."""
    handle = await start(
        client,
        queue,
        make_run(
            {
                "id": "push",
                "type": "http_request",
                "method": "POST",
                "url": target + "/echo",
                "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"},
                "json": {"msg": "{{ input.msg }}"},
                "timeout_s": 60,  # a regular activity, so the call (marker, names) is in the history
            },
            input={"msg": "\u27easecret:CRM_TOKEN\u27eb"},
        ),
    )
    await _finish(handle)
    return handle


async def approved_gate(client: Client, queue: str, target: str) -> WorkflowHandle:
    handle = await start(
        client,
        queue,
        make_run(
            {"id": "gate", "type": "approval", "class": "B", "message": "Ship?"},
            {"id": "done", "type": "log", "message": "ok"},
        ),
    )
    await until_progress(handle, lambda p: p.waiting is not None)
    await handle.execute_update(
        UserWorkflowRun.decide_step,
        StepDecision(step_id="gate", approved=True, decided_by="admin-key", role="tenant_admin"),
    )
    await handle.result()
    return handle


async def rejected_gate(client: Client, queue: str, target: str) -> WorkflowHandle:
    handle = await start(
        client, queue, make_run({"id": "gate", "type": "approval", "class": "C", "message": "Refund?"})
    )
    await until_progress(handle, lambda p: p.waiting is not None)
    await handle.execute_update(
        UserWorkflowRun.decide_step, StepDecision(step_id="gate", approved=False, decided_by="founder", role="founder")
    )
    await handle.result()
    return handle


async def gate_timeout_fails(client: Client, queue: str, target: str) -> WorkflowHandle:
    handle = await start(
        client,
        queue,
        make_run(
            {"id": "gate", "type": "approval", "class": "B", "message": "Ship?", "timeout_s": 0.3, "on_timeout": "fail"}
        ),
    )
    await _finish(handle)
    return handle


async def retries_exhausted(client: Client, queue: str, target: str) -> WorkflowHandle:
    handle = await start(
        client,
        queue,
        make_run(
            {"id": "flaky", "type": "http_request", "url": target + f"/flaky/{uuid.uuid4().hex}?fail=1"},
            {"id": "broken", "type": "http_request", "url": target + "/status/503"},
        ),
    )
    await _finish(handle)
    return handle


async def cancelled(client: Client, queue: str, target: str) -> WorkflowHandle:
    handle = await start(client, queue, make_run({"id": "wait", "type": "delay", "seconds": 3600}))
    await until_progress(handle, lambda p: p.current_step == "wait")
    await handle.cancel()
    await _finish(handle)
    return handle


def quiet_close(run: RunInput) -> RunInput:
    """A run started as the platform starts runs since issue 11: it leaves a completed, failed or cancelled end
    to Temporal's ExecutionStatus and writes no RunStatus as it closes."""
    return run.model_copy(update={"closing_status_upsert": False})


async def quiet_completed(client: Client, queue: str, target: str) -> WorkflowHandle:
    handle = await start(
        client,
        queue,
        quiet_close(
            make_run(
                {"id": "hello", "type": "log", "message": "start {{ input.n }}"},
                {"id": "fetch", "type": "http_request", "url": target + "/json", "timeout_s": 5},
                {
                    "id": "check",
                    "type": "condition",
                    "expression": "steps.fetch.status == 200",
                    "then": "end",
                    "else": "end",
                },
                input={"n": 1},
            )
        ),
    )
    await handle.result()
    return handle


async def quiet_failed(client: Client, queue: str, target: str) -> WorkflowHandle:
    run = make_run({"id": "broken", "type": "http_request", "method": "POST", "url": target + "/status/503"})
    handle = await start(client, queue, quiet_close(run))
    await _finish(handle)
    return handle


async def quiet_cancelled(client: Client, queue: str, target: str) -> WorkflowHandle:
    handle = await start(client, queue, quiet_close(make_run({"id": "wait", "type": "delay", "seconds": 3600})))
    await until_progress(handle, lambda p: p.current_step == "wait")
    await handle.cancel()
    await _finish(handle)
    return handle


async def redriven(client: Client, queue: str, target: str) -> WorkflowHandle:
    first = make_run(
        {"id": "charge", "type": "http_request", "method": "POST", "url": target + "/echo"},
        {"id": "ship", "type": "http_request", "url": target + f"/flaky/{uuid.uuid4().hex}?fail=3"},
    )
    failed = await start(client, queue, first)
    await _finish(failed)
    progress = await failed.query(UserWorkflowRun.progress)
    handle = await start(client, queue, redrive_input(progress, first.definition, FAST_RETRIES))
    await handle.result()
    return handle


async def http_local_budget(client: Client, queue: str, target: str) -> WorkflowHandle:
    """Every way an HTTP step runs since patch "http-local-budget": a quick GET in its local attempt, a slow
    GET and a failing one going on as regular activities (the failing one after a timer), a POST as a
    regular activity from the start, and a GET right after a decided gate as a regular activity."""
    name = uuid.uuid4().hex
    handle = await start(
        client,
        queue,
        make_run(
            {"id": "quick", "type": "http_request", "url": target + "/json"},
            {"id": "slow", "type": "http_request", "url": target + f"/stall-once/{name}?seconds=0.5"},
            {"id": "flaky", "type": "http_request", "url": target + f"/flaky/{name}?fail=1"},
            {"id": "push", "type": "http_request", "method": "POST", "url": target + "/echo"},
            {"id": "gate", "type": "approval", "class": "B", "message": "Go on?"},
            {"id": "after_gate", "type": "http_request", "url": target + "/json"},
        ),
    )
    await until_progress(handle, lambda p: p.waiting is not None)
    await handle.execute_update(
        UserWorkflowRun.decide_step,
        StepDecision(step_id="gate", approved=True, decided_by="admin-key", role="tenant_admin"),
    )
    await handle.result()
    return handle


async def scheduled(client: Client, queue: str, target: str) -> WorkflowHandle:
    """Started the way a Temporal Schedule starts runs: no run id in the input, one per workflow id."""
    run = make_run({"id": "hello", "type": "log", "message": "scheduled"}).model_copy(
        update={"run_id": "", "trigger": "schedule"}
    )
    handle = await client.start_workflow(
        UserWorkflowRun.run, run, id=f"run-sched-{uuid.uuid4()}-2026-11-25T19:00:00Z", task_queue=queue
    )
    await handle.result()
    return handle


def recorded_tenant(status: str = "active") -> str:
    """A tenant row in the recorder's database, for the activities that read it (admission)."""
    tenant = Tenant(name="Recorded", status=status)
    with Session(create_db_engine(record_database_url()), expire_on_commit=False) as session:
        session.add(tenant)
        session.commit()
    return tenant.id


async def fired(client: Client, queue: str, tenant_id: str) -> WorkflowHandle:
    """A run started the way a Temporal Schedule starts one, for `tenant_id`."""
    run = make_run({"id": "hello", "type": "log", "message": "scheduled"}, tenant_id=tenant_id).model_copy(
        update={"run_id": "", "trigger": "schedule"}
    )
    handle = await client.start_workflow(
        UserWorkflowRun.run, run, id=f"run-sched-{uuid.uuid4()}-2026-12-01T23:00:00Z", task_queue=queue
    )
    await handle.result()
    return handle


async def approval_notice(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A class B gate of a tenant with an admin: its notice is sent (the activity looks the admin up) before the
    gate is approved."""
    tenant_id = recorded_tenant()
    with Session(create_db_engine(record_database_url())) as session:
        session.add(User(tenant_id=tenant_id, email="admin@recorded.test", role="admin"))
        session.commit()
    handle = await start(
        client,
        queue,
        make_run(
            {"id": "gate", "type": "approval", "class": "B", "message": "Ship {{ input.what }}?"},
            {"id": "done", "type": "log", "message": "ok"},
            input={"what": "it"},
            tenant_id=tenant_id,
        ),
    )
    await until(
        lambda: handle.fetch_history(),
        lambda h: any(e.HasField("activity_task_completed_event_attributes") for e in h.events),
    )
    await handle.execute_update(
        UserWorkflowRun.decide_step,
        StepDecision(step_id="gate", approved=True, decided_by="admin@recorded.test", role="tenant_admin"),
    )
    await handle.result()
    return handle


async def approval_notice_decided_at_once(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A class C gate rejected as soon as it waits, likely while its notice is still out (it lets it land)."""
    handle = await start(
        client, queue, make_run({"id": "gate", "type": "approval", "class": "C", "message": "Refund?"})
    )
    await until_progress(handle, lambda p: p.waiting is not None)
    await handle.execute_update(
        UserWorkflowRun.decide_step, StepDecision(step_id="gate", approved=False, decided_by="founder", role="founder")
    )
    await handle.result()
    return handle


async def scheduled_admitted(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A schedule's run of an active tenant: admitted (and counted) by its first step, then run."""
    return await fired(client, queue, recorded_tenant())


async def scheduled_refused(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A schedule's run of a suspended tenant: admission refuses it and it ends `refused` before any step."""
    return await fired(client, queue, recorded_tenant("suspended"))


async def tenant_suspend_cancels_runs(client: Client, queue: str, target: str) -> WorkflowHandle:
    """Suspending a tenant with a run waiting in a delay cancels the run, then resuming it."""
    tenant_id = recorded_tenant()
    run = await start(client, queue, make_run({"id": "wait", "type": "delay", "seconds": 3600}, tenant_id=tenant_id))
    await until_progress(run, lambda p: p.current_step == "wait")
    while not [e async for e in client.list_workflows(f"TenantId = '{tenant_id}' AND ExecutionStatus = 'Running'")]:
        await asyncio.sleep(0.05)  # visibility catches up with the start
    handle = await client.start_workflow(
        TenantLifecycle.run,
        LifecycleInput(state=TenantState(tenant_id=tenant_id), grace_period_s=1),
        id=f"tenant-{uuid.uuid4()}",
        task_queue=queue,
    )
    await handle.execute_update(TenantLifecycle.change, TenantChange(name="suspend", by="founder"))
    await _finish(run)
    for name in ("resume", "delete"):
        await handle.execute_update(TenantLifecycle.change, TenantChange(name=name, by="founder"))
    await handle.result()
    return handle


async def tenant_transitions(client: Client, queue: str, target: str) -> WorkflowHandle:
    handle = await client.start_workflow(
        TenantLifecycle.run,
        LifecycleInput(state=TenantState(tenant_id=str(uuid.uuid4())), grace_period_s=1),
        id=f"tenant-{uuid.uuid4()}",
        task_queue=queue,
    )
    for name in ("suspend", "resume", "delete", "restore", "delete"):
        await handle.execute_update(TenantLifecycle.change, TenantChange(name=name, by="founder"))
    await handle.result()  # purged when the one-second grace period ends
    return handle


async def tenant_throttled(client: Client, queue: str, target: str) -> WorkflowHandle:
    handle = await client.start_workflow(
        TenantLifecycle.run,
        LifecycleInput(state=TenantState(tenant_id=str(uuid.uuid4())), grace_period_s=1),
        id=f"tenant-{uuid.uuid4()}",
        task_queue=queue,
    )
    await handle.execute_update(TenantLifecycle.throttle, Throttle(max_concurrent_runs=1, by="founder", reason="spike"))
    await handle.execute_update(TenantLifecycle.lift_throttle, ThrottleLift(by="founder"))
    await handle.execute_update(TenantLifecycle.change, TenantChange(name="delete", by="founder"))
    await handle.result()
    return handle


async def cost_autopilot_spike(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A tenant whose spend jumped from a cent an hour to $2 in the last hour, in the recorder's database."""
    now = datetime.now(UTC)
    tenant, period = Tenant(name="Spiky", plan="pro"), period_of(now)
    with Session(create_db_engine(record_database_url()), expire_on_commit=False) as session:
        session.add(tenant)
        session.add_all(
            [
                SpendSample(
                    tenant_id=tenant.id,
                    at=now - timedelta(hours=age),
                    period=period,
                    spend_micros=(2 - age) * 10_000,
                    rate_micros_per_hour=10_000,
                )
                for age in (2, 1)
            ]
        )
        session.add(UsageCounter(tenant_id=tenant.id, period=period, metric="runs", value=2_010))
        session.commit()
    handle = await client.start_workflow(
        CostAutopilot.run,
        CostAutopilotInput(tenant_ids=[tenant.id]),
        id=f"cost-autopilot-{uuid.uuid4()}",
        task_queue=queue,
    )
    assert (await handle.result()).throttled == [tenant.id]
    return handle


async def upgrade_planner_rebuild(client: Client, queue: str, target: str) -> WorkflowHandle:
    """Three open timeouts of one step in the recorder's database become one performance plan."""
    now, tenant_id = datetime.now(UTC), str(uuid.uuid4())
    with Session(create_db_engine(record_database_url())) as session:
        session.add_all(
            [
                FailureEntry(
                    tenant_id=tenant_id,
                    run_id=str(uuid.uuid4()),
                    definition_id="def-recorded",
                    version=1,
                    step_id="fetch",
                    error_type="Timeout",
                    message="timed out",
                    attempts=5,
                    first_failed_at=now,
                    last_failed_at=now,
                    category="timeout",
                )
                for _ in range(3)
            ]
        )
        session.commit()
    handle = await client.start_workflow(
        UpgradePlanner.run, UpgradePlannerInput(), id=f"upgrade-planner-{uuid.uuid4()}", task_queue=queue
    )
    result = await handle.result()
    assert result.created >= 1, result
    return handle


@cache
def record_database_url() -> str:
    """The recorder's own database, made on first use; scenarios whose activities read rows seed it."""
    return f"sqlite:///{tempfile.mkdtemp()}/record.db"


async def data_export_archive(client: Client, queue: str, target: str) -> WorkflowHandle:
    """An export of a tenant with a definition and a secret, written to the recorder's database."""
    now = datetime.now(UTC)
    tenant = Tenant(name="Recorded")
    request = DataRequest(tenant_id=tenant.id, kind="export", deadline_at=now + timedelta(days=30))
    params = DataExportInput(request_id=request.id, tenant_id=tenant.id)
    with Session(create_db_engine(record_database_url())) as session:
        definition = WorkflowDefinitionRow(tenant_id=tenant.id, name="flow")
        session.add_all([tenant, request, definition, TenantSecret(tenant_id=tenant.id, name="TOKEN", ciphertext="x")])
        session.flush()
        session.add(WorkflowVersionRow(definition_id=definition.id, version=1, body={"name": "flow", "steps": []}))
        session.commit()
    handle = await client.start_workflow(
        DataExport.run, params, id=export_workflow_id(params.request_id), task_queue=queue
    )
    await handle.result()
    return handle


async def compliance_audit_findings(client: Client, queue: str, target: str) -> WorkflowHandle:
    """An audit of one tenant with an overdue data request: a critical finding, so the founder is notified."""
    now = datetime.now(UTC)
    tenant = Tenant(name="Audited")
    with Session(create_db_engine(record_database_url())) as session:
        session.add_all(
            [
                tenant,
                DataRequest(
                    tenant_id=tenant.id,
                    kind="export",
                    requested_at=now - timedelta(days=40),
                    deadline_at=now - timedelta(days=10),
                ),
            ]
        )
        session.commit()
        params = ComplianceAuditInput(tenant_id=tenant.id, trigger="founder")
    handle = await client.start_workflow(
        ComplianceAudit.run, params, id=f"compliance-audit-{uuid.uuid4()}", task_queue=queue
    )
    await handle.result()
    return handle


async def heartbeat_probes(client: Client, queue: str, target: str) -> WorkflowHandle:
    """Every probe in parallel (Stripe not configured, the fake AI answering), then the record."""
    handle = await client.start_workflow(
        Heartbeat.run, HeartbeatInput(), id=f"heartbeat-{uuid.uuid4()}", task_queue=queue
    )
    await handle.result()
    return handle


async def daily_report_scored(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A report over a day with a heartbeat and a repeated error, then pruning."""
    now = datetime.now(UTC)
    with Session(create_db_engine(record_database_url())) as session:
        session.add(
            HealthRecord(
                at=now,
                status="ok",
                db_ok=True,
                temporal_ok=True,
                stripe_status="not_configured",
                ai_status="ok",
                error_count_recent=0,
            )
        )
        session.add_all([TelemetryEvent(source="web", kind="error", message="timeout", at=now) for _ in range(3)])
        session.commit()
    handle = await client.start_workflow(
        DailyReport.run, DailyReportInput(), id=f"daily-report-{uuid.uuid4()}", task_queue=queue
    )
    await handle.result()
    return handle


SCENARIOS: dict[str, Scenario] = {
    "user_workflow_run_every_step": every_step,
    "user_workflow_run_secret_placeholder": secret_placeholder,
    "user_workflow_run_approved_gate": approved_gate,
    "user_workflow_run_rejected_gate": rejected_gate,
    "user_workflow_run_gate_timeout_fails": gate_timeout_fails,
    "user_workflow_run_retries_exhausted": retries_exhausted,
    "user_workflow_run_cancelled": cancelled,
    # recorded once failures went to the failure queue (patch "record-failure-in-queue")
    "user_workflow_run_failure_recorded": retries_exhausted,
    "user_workflow_run_redriven": redriven,
    "user_workflow_run_scheduled": scheduled,
    "tenant_lifecycle_transitions": tenant_transitions,
    "data_export_archive": data_export_archive,
    # recorded once runs the API did not admit counted themselves (patch "count-unadmitted-run")
    "user_workflow_run_scheduled_counted": scheduled,
    "tenant_lifecycle_throttled": tenant_throttled,
    "cost_autopilot_spike": cost_autopilot_spike,
    "upgrade_planner_rebuild": upgrade_planner_rebuild,
    # recorded once the planner also scanned telemetry anomalies (patch "signals-with-window-and-anomalies")
    "upgrade_planner_with_anomalies": upgrade_planner_rebuild,
    "compliance_audit_findings": compliance_audit_findings,
    "heartbeat_probes": heartbeat_probes,
    "daily_report_scored": daily_report_scored,
    # recorded once every run passed admission before its first step (patch "admit-every-run"): a schedule's
    # run admits itself, a re-drive was admitted by its caller and no longer counts itself at the end
    "user_workflow_run_scheduled_admitted": scheduled_admitted,
    "user_workflow_run_scheduled_refused": scheduled_refused,
    "user_workflow_run_redriven_admitted": redriven,
    # recorded once suspending and deleting cancelled the tenant's runs (patch "cancel-runs-on-suspend")
    "tenant_lifecycle_suspend_cancels_runs": tenant_suspend_cancels_runs,
    # recorded once an HTTP call got one budgeted local attempt, for safe methods only (patch
    # "http-local-budget"), and closed runs left their record: a cancelled one in its memo (patch
    # "closed-run-record"), a failed one in its failure's details, a finished one in its result
    "user_workflow_run_http_local_budget": http_local_budget,
    "user_workflow_run_retries_after_local_attempt": retries_exhausted,
    "user_workflow_run_cancelled_with_record": cancelled,
    "user_workflow_run_rejected_with_record": rejected_gate,
    # Since runs leave completed, failed and cancelled to Temporal's ExecutionStatus (closing_status_upsert).
    "user_workflow_run_quiet_close_completed": quiet_completed,
    "user_workflow_run_quiet_close_failed": quiet_failed,
    "user_workflow_run_quiet_close_cancelled": quiet_cancelled,
    # recorded once the local first attempt was cut by its answer budget inside the activity
    # (HttpAnswerBudgetExceeded) instead of by the workflow's timeout on it
    "user_workflow_run_http_answer_budget": http_local_budget,
    # recorded once a waiting class B or C gate e-mailed its approvers (patch "approval-notice")
    "user_workflow_run_approval_notice": approval_notice,
    "user_workflow_run_approval_notice_decided_at_once": approval_notice_decided_at_once,
}


@asynccontextmanager
async def billing_worker(client: Client) -> AsyncIterator[str]:
    """A worker whose Stripe is the local fake and whose mail goes to its own sink; yields its queue."""
    fake_stripe, smtp = FakeStripe().start(), SmtpSink().start()
    settings = Settings(
        levqor_founder_token="x" * 16,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        stripe_api_key=STRIPE_KEY,
        stripe_api_base=fake_stripe.url,
    )
    try:
        async with build_worker(client, settings, create_db_engine(record_database_url()), task_queue="record-billing"):
            yield "record-billing"
    finally:
        fake_stripe.stop()
        smtp.stop()


def seed_billing_tenant() -> tuple[str, str]:
    """A tenant with a billing contact and a Stripe customer in the recorder's database."""
    tenant_id, customer = str(uuid.uuid4()), f"cus_{uuid.uuid4().hex[:12]}"
    with Session(create_db_engine(record_database_url())) as session:
        session.add(Tenant(id=tenant_id, name="Recorded billing", plan="pro"))
        session.flush()
        session.add(
            BillingAccount(tenant_id=tenant_id, billing_email="ap@recorded.example", stripe_customer_id=customer)
        )
        session.commit()
    return tenant_id, customer


async def checkout_session(client: Client, queue: str, target: str) -> WorkflowHandle:
    async with billing_worker(client) as billing_queue:
        params = CheckoutInput(
            tenant_id=str(uuid.uuid4()),
            item="pro",
            mode="subscription",
            price_id="price_pro",
            success_url="http://127.0.0.1/ok",
            cancel_url="http://127.0.0.1/no",
            idempotency_key=f"record-{uuid.uuid4()}",
        )
        handle = await client.start_workflow(
            Checkout.run, params, id=f"checkout-{uuid.uuid4()}", task_queue=billing_queue
        )
        await handle.result()
    return handle


async def stripe_event_payment_failed(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A failed payment applied and handed to a new Dunning child (left running; it is not recorded here)."""
    tenant_id, customer = seed_billing_tenant()
    event = StripeEventInput(
        event_id=f"evt_{uuid.uuid4().hex[:24]}",
        type="invoice.payment_failed",
        created=datetime.now(UTC),
        customer_id=customer,
        invoice_id="in_recorded",
        amount=9900,
        currency="usd",
        dunning=DunningPolicy(grace_period_s=3600, reminder_interval_s=600),
    )
    async with billing_worker(client) as billing_queue:
        handle = await client.start_workflow(
            StripeEvent.run, event, id=stripe_event_workflow_id(event.event_id), task_queue=billing_queue
        )
        await handle.result()
        await client.get_workflow_handle(dunning_workflow_id(tenant_id)).terminate("recording ended")
    return handle


async def dunning_suspended_then_paid(client: Client, queue: str, target: str) -> WorkflowHandle:
    """Grace with reminders, suspension through the tenant's lifecycle, then payment resumes it."""
    tenant_id, _customer = seed_billing_tenant()
    params = DunningInput(
        tenant_id=tenant_id,
        invoice_id="in_recorded",
        amount=9900,
        currency="usd",
        policy=DunningPolicy(grace_period_s=3.0, reminder_interval_s=1.0),
    )
    async with billing_worker(client) as billing_queue:
        handle = await client.start_workflow(
            Dunning.run, params, id=dunning_workflow_id(tenant_id), task_queue=billing_queue
        )
        while (await handle.query(Dunning.state)).status != "suspended":
            await asyncio.sleep(0.05)
        await handle.signal(Dunning.settle, Settlement(invoice_id="in_recorded", reason="paid"))
        await handle.result()
    return handle


async def billing_portal_session(client: Client, queue: str, target: str) -> WorkflowHandle:
    async with billing_worker(client) as billing_queue:
        params = PortalInput(
            tenant_id=str(uuid.uuid4()),
            customer_id="cus_recorded",
            return_url="http://127.0.0.1/b",
            idempotency_key=f"record-{uuid.uuid4()}",
        )
        handle = await client.start_workflow(
            BillingPortal.run, params, id=f"billing-portal-{uuid.uuid4()}", task_queue=billing_queue
        )
        await handle.result()
    return handle


async def dunning_late_invoice(client: Client, queue: str, target: str) -> WorkflowHandle:
    """Settled, then another invoice fails while it closes: the run continues as new for that invoice."""
    tenant_id, _customer = seed_billing_tenant()
    params = DunningInput(
        tenant_id=tenant_id, invoice_id="in_first", policy=DunningPolicy(grace_period_s=3600, reminder_interval_s=1800)
    )
    async with billing_worker(client) as billing_queue:
        handle = await client.start_workflow(
            Dunning.run, params, id=dunning_workflow_id(tenant_id), task_queue=billing_queue
        )
        await handle.signal(Dunning.settle, Settlement(invoice_id="in_first", reason="paid"))
        await handle.signal(Dunning.payment_failed, InvoiceFailed(invoice_id="in_late"))
        first_run = client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
        while (await first_run.describe()).close_time is None:
            await asyncio.sleep(0.05)
        await handle.terminate("recording ended")
    return first_run


SCENARIOS.update(
    {
        "dunning_late_invoice": dunning_late_invoice,
        "billing_portal_session": billing_portal_session,
        "checkout_session": checkout_session,
        "stripe_event_payment_failed": stripe_event_payment_failed,
        "dunning_suspended_then_paid": dunning_suspended_then_paid,
    }
)


async def retention_enforcer_pass(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A full pass over a tenant with five archived runs past the free plan's 7 days, in batches of two."""
    now = datetime.now(UTC)
    tenant = Tenant(name="Retained")
    with Session(create_db_engine(record_database_url())) as session:
        session.add(tenant)
        session.flush()
        session.add_all(
            RunArchiveEntry(
                run_id=f"run-{uuid.uuid4()}",
                tenant_id=tenant.id,
                definition_id=str(uuid.uuid4()),
                version=1,
                status="completed",
                trigger="api",
                started_at=now - timedelta(days=10),
                closed_at=now - timedelta(days=10),
            )
            for _ in range(5)
        )
        session.commit()
    params = RetentionEnforcerInput(platform=default_platform_retention(), batch_size=2)
    handle = await client.start_workflow(
        RetentionEnforcer.run, params, id=f"retention-enforcer-{uuid.uuid4()}", task_queue=queue
    )
    await handle.result()
    return handle


SCENARIOS.update(
    {
        # recorded once the RetentionEnforcer deleted by age and the report stopped pruning telemetry
        # (patch "retention-enforcer-prunes-telemetry")
        "daily_report_enforcer_prunes": daily_report_scored,
        "retention_enforcer_pass": retention_enforcer_pass,
    }
)


def campaign_run(target: str, tenant_id: str = "tenant-a", stage: LaunchStage | None = "pre-launch") -> RunInput:
    """A marketing definition: a log line, then an e-mail and a POST (outbound, so reviewed before launch)."""
    run = make_run(
        {"id": "hello", "type": "log", "message": "campaign for {{ input.product }}"},
        {
            "id": "announce",
            "type": "email",
            "to": ["lead@example.com"],
            "subject": "Meet {{ input.product }}",
            "body": "hi",
        },
        {
            "id": "push",
            "type": "http_request",
            "method": "POST",
            "url": target + "/echo",
            "json": {"p": "{{ input.product }}"},
        },
        input={"product": "Levqor"},
        tenant_id=tenant_id,
    )
    return run.model_copy(update={"definition": {**run.definition, "purpose": "marketing"}, "launch_stage": stage})


async def reviewed_campaign(client: Client, handle: WorkflowHandle, approved: bool) -> WorkflowHandle:
    await until_progress(handle, lambda p: p.waiting is not None and p.waiting.step_id == CAMPAIGN_REVIEW_ID)
    await handle.execute_update(
        UserWorkflowRun.decide_step,
        StepDecision(step_id=CAMPAIGN_REVIEW_ID, approved=approved, decided_by="founder", role="founder"),
    )
    await handle.result()
    return handle


async def campaign_review_rejected(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A marketing run admitted before launch: the founder rejects its campaign review, so it finishes dry."""
    return await reviewed_campaign(client, await start(client, queue, campaign_run(target)), approved=False)


async def campaign_review_approved(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A marketing run admitted before launch whose campaign the founder approves: it sends for real."""
    return await reviewed_campaign(client, await start(client, queue, campaign_run(target)), approved=True)


async def scheduled_campaign(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A schedule's marketing run while the platform is before launch: its own admission reads the stage."""
    tenant_id, engine = recorded_tenant(), create_db_engine(record_database_url())
    with Session(engine) as session:
        session.merge(SystemToggle(name="launch_stage", value="pre-launch", changed_by="recorder", reason="record"))
        session.commit()
    await asyncio.sleep(TOGGLES_CACHE_S + 0.2)  # the worker's cached toggles expire
    run = campaign_run(target, tenant_id, stage=None).model_copy(update={"run_id": "", "trigger": "schedule"})
    try:
        handle = await client.start_workflow(
            UserWorkflowRun.run, run, id=f"run-sched-{uuid.uuid4()}-2026-12-02T07:00:00Z", task_queue=queue
        )
        return await reviewed_campaign(client, handle, approved=False)
    finally:
        with Session(engine) as session:
            session.delete(session.get_one(SystemToggle, "launch_stage"))
            session.commit()


SCENARIOS.update(
    {
        # recorded once marketing runs admitted before launch waited for the founder's campaign review (RunInput's
        # launch_stage; a schedule's run reads it in its own admission) and ran dry unless it was approved
        "user_workflow_run_campaign_review_rejected": campaign_review_rejected,
        "user_workflow_run_campaign_review_approved": campaign_review_approved,
        "user_workflow_run_scheduled_campaign": scheduled_campaign,
    }
)


async def auto_recovery_follows_toggles(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A platform-schedule cycle (follow_toggles) that takes apply mode and its limit from the founder's toggles:
    apply on, at most 0 re-drives, so the planted transient failure is auto-applicable and nothing is re-driven."""
    engine, tenant_id, now = create_db_engine(record_database_url()), recorded_tenant(), datetime.now(UTC)
    failure = FailureEntry(tenant_id=tenant_id, run_id=f"planted-{uuid.uuid4()}", definition_id="def", version=1,
                           step_id="call", error_type="HttpTransportError", message="planted", attempts=3,
                           first_failed_at=now, last_failed_at=now)  # fmt: skip
    toggles = {"auto_recovery_apply": True, "auto_recovery_max_redrives": 0}
    with Session(engine) as session:
        session.add(failure)
        for name, value in toggles.items():
            session.merge(SystemToggle(name=name, value=value, changed_by="recorder", reason="record"))
        session.commit()
    await asyncio.sleep(TOGGLES_CACHE_S + 0.2)  # the worker's cached toggles expire
    try:
        params = AutoRecoveryInput(tenant_id=tenant_id, follow_toggles=True)
        handle = await client.start_workflow(
            AutoRecovery.run, params, id=f"auto-recovery-{uuid.uuid4()}", task_queue=queue
        )
        result = await handle.result()
        assert result.auto_applicable == 1 and result.redriven == [], result
        return handle
    finally:
        with Session(engine) as session:
            for name in toggles:
                session.delete(session.get_one(SystemToggle, name))
            session.commit()


async def auto_recovery_given_values(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A cycle with the values its input gives (follow_toggles off): the command sequence cycles had before."""
    params = AutoRecoveryInput(tenant_id=recorded_tenant())
    handle = await client.start_workflow(AutoRecovery.run, params, id=f"auto-recovery-{uuid.uuid4()}", task_queue=queue)
    await handle.result()
    return handle


SCENARIOS.update(
    {
        # recorded once the platform schedule's cycles read apply mode and the limit from the system toggles
        # (AutoRecoveryInput.follow_toggles)
        "auto_recovery_follows_toggles": auto_recovery_follows_toggles,
        "auto_recovery_given_values": auto_recovery_given_values,
    }
)


async def ai_fallback_text(client: Client, queue: str, target: str) -> WorkflowHandle:
    """An `ai` step whose model is off the allow-list (refused at once, no request) answers its fallback text."""
    step = {"id": "ask", "type": "ai", "prompt": "hello", "model": "gpt-legacy", "fallback": {"text": "later"}}
    handle = await start(
        client, queue, make_run(step, {"id": "after", "type": "log", "message": "{{ steps.ask.text }}"})
    )
    await handle.result()
    return handle


async def ai_fallback_model(client: Client, queue: str, target: str) -> WorkflowHandle:
    """An `ai` step whose model is off the allow-list asks its fallback model, which answers."""
    step = {"id": "ask", "type": "ai", "prompt": "hello", "model": "gpt-legacy", "fallback": {"model": "gpt-4o-mini"}}
    handle = await start(client, queue, make_run(step))
    await handle.result()
    return handle


SCENARIOS.update(
    {
        # recorded once `ai` steps could name a fallback (a text or another model) for an AI call that fails for good
        "user_workflow_run_ai_fallback_text": ai_fallback_text,
        "user_workflow_run_ai_fallback_model": ai_fallback_model,
    }
)


async def support_ticket_answered_and_rated(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A public contact triaged by the keyword rules (the fake AI's echo is no triage), answered by a founder,
    closed and rated 5: the workflow ends with the score."""
    with Session(create_db_engine(record_database_url()), expire_on_commit=False) as session:
        ticket = SupportTicket(origin="contact", subject="Refund", body="I was charged twice.", requester_name="Dana",
                               requester_email="dana@customer.test", reply_token=uuid.uuid4().hex)  # fmt: skip
        session.add(ticket)
        session.commit()
        reply = SupportMessage(ticket_id=ticket.id, author="founder", author_name="Alice", body="Refunded.")
        session.add(reply)
        session.commit()
    handle = await client.start_workflow(
        SupportTicketWorkflow.run,
        SupportTicketInput(ticket_id=ticket.id, tenant_id=None),
        id=f"support-ticket-{ticket.id}",
        task_queue=queue,
    )
    await until(lambda: handle.query(SupportTicketWorkflow.progress), lambda p: p.status == "open", timeout_s=30)
    await handle.execute_update(
        SupportTicketWorkflow.reply, ReplyNotice(ticket_id=ticket.id, message_id=reply.id, author="founder")
    )
    await handle.execute_update(SupportTicketWorkflow.close, TicketClosing(ticket_id=ticket.id, closed_by="founder"))
    await handle.execute_update(SupportTicketWorkflow.rate, CsatNotice(score=5))
    await handle.result()
    return handle


SCENARIOS.update(
    {
        # recorded once the daily report carried the support desk's summary (patch "daily-report-support-summary")
        "daily_report_support_summary": daily_report_scored,
        "support_ticket_answered_and_rated": support_ticket_answered_and_rated,
    }
)
SCENARIOS.update(
    {
        # recorded once the founders heard of every new ticket with its reply address
        # (patch "support-ticket-new-ticket-notice")
        "support_ticket_new_ticket_notice": support_ticket_answered_and_rated,
    }
)


async def workflow_draft_template_when_ai_off(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A draft whose caller already knows the AI cannot answer: the template draft at once."""
    params = DraftInput(
        tenant_id=str(uuid.uuid4()), plan="free", prompt="Refund approvals", language="es", fallback_reason="ai_off"
    )
    handle = await client.start_workflow(WorkflowDraft.run, params, id=f"draft-{uuid.uuid4()}", task_queue=queue)
    await handle.result()
    return handle


async def workflow_draft_unparsable_answers(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A draft the AI answers in free text (the fake's echo) on every attempt: the template draft, invalid_answer."""
    params = DraftInput(tenant_id=str(uuid.uuid4()), plan="pro", prompt="Uptime check of our site", language="en")
    handle = await client.start_workflow(WorkflowDraft.run, params, id=f"draft-{uuid.uuid4()}", task_queue=queue)
    await handle.result()
    return handle


SCENARIOS.update(
    {
        "workflow_draft_template_when_ai_off": workflow_draft_template_when_ai_off,
        "workflow_draft_unparsable_answers": workflow_draft_unparsable_answers,
    }
)


async def workflow_draft_repaired(client: Client, queue: str, target: str) -> WorkflowHandle:
    """An invalid first draft goes back with the validator's report and the second is valid: scripted on a fake
    provider and a worker of the scenario's own (the recorder's fake only echoes)."""
    invalid = {"name": "Ping", "steps": [{"id": "ping", "type": "http_request", "url": "crm ping"}]}
    valid = {"name": "Ping", "steps": [{"id": "ping", "type": "http_request", "url": "https://crm.example.com/ping"}]}
    fake = FakeOpenAI().start()
    fake.script(*(Reply(content={"definition": d, "explanation": "Pings the CRM."}) for d in (invalid, valid)))
    database_url = record_database_url()
    migrate(database_url)
    settings = Settings(
        temporal_address=client.service_client.config.target_host,
        database_url=database_url,
        levqor_founder_token="x" * 16,
        openai_api_key="test-key",
        openai_base_url=fake.base_url,
    )
    params = DraftInput(tenant_id=str(uuid.uuid4()), plan="pro", prompt="Ping our CRM", language="en")
    try:
        async with build_worker(client, settings, create_db_engine(database_url), task_queue="record-draft"):
            handle = await client.start_workflow(
                WorkflowDraft.run, params, id=f"draft-{uuid.uuid4()}", task_queue="record-draft"
            )
            await handle.result()
    finally:
        fake.stop()
    return handle


SCENARIOS["workflow_draft_repaired"] = workflow_draft_repaired


README = Path(__file__).resolve().parents[2] / "README.md"


async def help_chat(client: Client, queue: str, params: HelpChatInput) -> WorkflowHandle:
    sync_knowledge(create_db_engine(record_database_url()), README)  # the passages the search finds
    handle = await client.start_workflow(HelpChat.run, params, id=f"chat-{uuid.uuid4()}", task_queue=queue)
    await handle.result()
    return handle


async def help_chat_fallback_when_ai_off(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A question whose caller already knows the AI is off: the passages found under why, no AI asked."""
    question = "How do I store a secret for an HTTP step?"
    return await help_chat(client, queue, HelpChatInput(tenant_id="t", question=question, language="es",
                                                        fallback_reason="ai_off"))  # fmt: skip


async def help_chat_unparsable_answers(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A question about "my workflows" (the tenant's context is read) the AI answers in free text (the fake's echo)
    on every attempt: the passages found, invalid_answer."""
    question = "Why do my workflows with an approval gate wait?"
    return await help_chat(client, queue, HelpChatInput(tenant_id="t", question=question, language="en"))


async def onboarding(client: Client, queue: str, params: OnboardingInput) -> WorkflowHandle:
    handle = await client.start_workflow(OnboardingPlan.run, params, id=f"onboarding-{uuid.uuid4()}", task_queue=queue)
    await handle.result()
    return handle


async def onboarding_plan_fallback_when_ai_off(client: Client, queue: str, target: str) -> WorkflowHandle:
    """Goals whose caller already knows the AI is off: the keyword plan and the template draft (a child)."""
    goals = "Remind customers of unpaid invoices every week"
    return await onboarding(client, queue, OnboardingInput(tenant_id=str(uuid.uuid4()), tenant_plan="pro", goals=goals,
                                                           language="fr", fallback_reason="ai_off"))  # fmt: skip


async def onboarding_plan_unparsable_answers(client: Client, queue: str, target: str) -> WorkflowHandle:
    """Goals the AI answers in free text on every attempt: the keyword plan and the template draft, invalid_answer."""
    goals = "Tell the team on Slack about each new order"
    return await onboarding(client, queue, OnboardingInput(tenant_id=str(uuid.uuid4()), tenant_plan="pro", goals=goals,
                                                           language="en"))  # fmt: skip


SCENARIOS.update(
    {
        "help_chat_fallback_when_ai_off": help_chat_fallback_when_ai_off,
        "help_chat_unparsable_answers": help_chat_unparsable_answers,
        "onboarding_plan_fallback_when_ai_off": onboarding_plan_fallback_when_ai_off,
        "onboarding_plan_unparsable_answers": onboarding_plan_unparsable_answers,
    }
)


@asynccontextmanager
async def diagnosis_worker(client: Client, *answers: object) -> AsyncIterator[str]:
    """A worker whose AI is a fake of its own answering `answers` in order (then echoing); yields its queue."""
    from tests.fakes.openai import Reply

    fake_ai = FakeOpenAI().start()
    fake_ai.script(*(Reply(content=answer) for answer in answers))
    settings = Settings(levqor_founder_token="x" * 16, openai_api_key="test-key", openai_base_url=fake_ai.base_url)
    try:
        async with build_worker(client, settings, create_db_engine(record_database_url()), task_queue="record-ai"):
            yield "record-ai"
    finally:
        fake_ai.stop()


def failed_http_step() -> tuple[str, str, int]:
    """A tenant, a stored definition whose HTTP step failed with a 503, and its failure-queue entry's id (with the
    definition's id and version) in the recorder's database."""
    from schemas.tables import FailureEntry, WorkflowDefinitionRow, WorkflowVersionRow

    tenant_id, now = recorded_tenant(), datetime.now(UTC)
    body = {"name": "sync", "steps": [{"id": "call", "type": "http_request", "url": "https://crm.example.com/sync"}]}
    with Session(create_db_engine(record_database_url()), expire_on_commit=False) as session:
        definition = WorkflowDefinitionRow(tenant_id=tenant_id, name="sync")
        session.add(definition)
        session.flush()
        session.add(WorkflowVersionRow(definition_id=definition.id, version=1, body=body))
        session.add(FailureEntry(tenant_id=tenant_id, run_id=f"failed-{uuid.uuid4()}", definition_id=definition.id,
                                 version=1, step_id="call", error_type="HttpServerError", attempts=3,
                                 message="GET https://crm.example.com/sync answered 503", first_failed_at=now,
                                 last_failed_at=now))  # fmt: skip
        session.commit()
    return tenant_id, definition.id, 1


def diagnosis_of(tenant_id: str, definition_id: str, **fields: object) -> dict[str, object]:
    """RunDiagnosis's input (as JSON) for the failure `failed_http_step` stored."""
    body = {"name": "sync", "steps": [{"id": "call", "type": "http_request", "url": "https://crm.example.com/sync"}]}
    facts = {"run_id": f"failed-{uuid.uuid4()}", "status": "failed", "definition_id": definition_id, "version": 1,
             "step_id": "call", "step_type": "http_request", "error_type": "HttpServerError", "attempts": 3,
             "error_message": "GET https://crm.example.com/sync answered 503", "http_status": 503,
             "definition": body}  # fmt: skip
    return {"tenant_id": tenant_id, "plan": "pro", "language": "en", "facts": facts, **fields}


DIAGNOSIS_ANSWER = {
    "category": "target_5xx",
    "cause": "The CRM is down for maintenance",
    "explanation": "It answers 503 during its nightly window.",
    "summary": "Retry the call up to 6 times",
    "patch": [{"op": "add", "path": "/steps/0/retry", "value": {"max_attempts": 6}}],
}


async def run_diagnosis_ai_fix_repaired(client: Client, queue: str, target: str) -> WorkflowHandle:
    """The AI's first patch does not apply (a step that is not there); told why, it answers one that does: two AI
    calls, two checks, the fix kept."""
    from orchestrator.run_diagnosis import RunDiagnosis
    from schemas.brain import DiagnosisInput

    tenant_id, definition_id, _ = failed_http_step()
    wrong = {**DIAGNOSIS_ANSWER, "patch": [{"op": "replace", "path": "/steps/3/timeout_s", "value": 30}]}
    async with diagnosis_worker(client, wrong, DIAGNOSIS_ANSWER) as ai_queue:
        handle = await client.start_workflow(
            RunDiagnosis.run,
            DiagnosisInput.model_validate(diagnosis_of(tenant_id, definition_id)),
            id=f"diagnosis-{uuid.uuid4()}",
            task_queue=ai_queue,
        )
        result = await handle.result()
    assert result.source == "ai" and result.rounds == 2 and result.fix_id is not None, result
    return handle


async def run_diagnosis_rules_when_ai_off(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A diagnosis whose caller already knows the AI is off: the category's rules and their patch, checked."""
    from orchestrator.run_diagnosis import RunDiagnosis
    from schemas.brain import DiagnosisInput

    tenant_id, definition_id, _ = failed_http_step()
    params = DiagnosisInput.model_validate(diagnosis_of(tenant_id, definition_id, fallback_reason="ai_off"))
    handle = await client.start_workflow(RunDiagnosis.run, params, id=f"diagnosis-{uuid.uuid4()}", task_queue=queue)
    result = await handle.result()
    assert result.source == "fallback" and result.fix_id is not None, result
    return handle


async def auto_recovery_ai_diagnosis(client: Client, queue: str, target: str) -> WorkflowHandle:
    """A cycle with AI available: the failure is diagnosed by a child RunDiagnosis, its suggestion the AI's."""
    tenant_id, _, _ = failed_http_step()
    async with diagnosis_worker(client, DIAGNOSIS_ANSWER) as ai_queue:
        handle = await client.start_workflow(
            AutoRecovery.run,
            AutoRecoveryInput(tenant_id=tenant_id),
            id=f"auto-recovery-{uuid.uuid4()}",
            task_queue=ai_queue,
        )
        await handle.result()
    return handle


SCENARIOS.update(
    {
        # recorded once failed runs were diagnosed (RunDiagnosis) and AutoRecovery's suggestions used the AI's
        # diagnosis (patch "ai-diagnosis")
        "run_diagnosis_ai_fix_repaired": run_diagnosis_ai_fix_repaired,
        "run_diagnosis_rules_when_ai_off": run_diagnosis_rules_when_ai_off,
        "auto_recovery_ai_diagnosis": auto_recovery_ai_diagnosis,
    }
)


async def _finish(handle: WorkflowHandle) -> None:
    try:
        await handle.result()
    except Exception:
        pass  # these scenarios end in failure or cancellation on purpose


async def record(names: list[str]) -> None:
    target, smtp, ai = TargetServer().start(), SmtpSink().start(), FakeOpenAI().start()
    database_url = record_database_url()
    migrate(database_url)
    try:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
            search_attributes=[TENANT_ID, DEFINITION_ID, RUN_STATUS],
            data_converter=pydantic_data_converter,
            dev_server_extra_args=["--headless"],
        )
        async with env:
            settings = Settings(
                temporal_address=env.client.service_client.config.target_host,
                levqor_founder_token="x" * 16,
                levqor_http_allow_private=True,
                smtp_host=smtp.host,
                smtp_port=smtp.port,
                openai_api_key="test-key",
                openai_base_url=ai.base_url,
                retry_initial_interval_s=0.05,
                retry_max_interval_s=0.2,
                retry_max_attempts=3,
            )
            async with build_worker(env.client, settings, create_db_engine(database_url), task_queue="record"):
                for name in names:
                    path = HISTORIES / f"{name}.json"
                    if path.exists():
                        continue  # recorded by older code; it must keep replaying as it is
                    handle = await SCENARIOS[name](env.client, "record", target.url)
                    path.write_text((await handle.fetch_history()).to_json())
    finally:
        target.stop()
        smtp.stop()
        ai.stop()


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:] or list(SCENARIOS)))
