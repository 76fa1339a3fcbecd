"""The FastAPI app: routers, error handlers, and a lifespan that builds the engine, the Temporal client
and, in the embedded default, a worker in the same process (so runs start eagerly)."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI

from api.body_limit import BodySizeLimit
from api.deps import CallerCache, HookCache, KeyUsage
from api.docs import install_docs
from api.errors import install_error_handlers
from api.metering import ApiCallCounter
from api.observability import ApiMetrics, RequestObservability
from api.openapi import DESCRIPTION, TAGS, install_openapi, operation_id
from api.routes import (
    ai_credits,
    ai_diagnoses,
    ai_drafts,
    ai_help,
    approvals,
    billing,
    codec,
    compliance,
    cost,
    data_requests,
    failures,
    health,
    legal,
    metrics,
    pricing,
    retention,
    runs,
    schedules,
    secrets,
    signup,
    support,
    telemetry,
    templates,
    tenant_backup,
    tenants,
    toggles,
    upgrades,
    users,
    webhooks,
    webhooks_inbound,
    workflows,
)
from api.routes import usage as usage_routes
from api.web.app import install_web
from core.db import create_db_engine
from core.live_bridge import start_live_bridge
from core.logs import configure_logging
from core.metering import usage_buffer
from core.settings import VERSION, Settings
from core.telemetry import TelemetryBuffer
from core.toggles import use_initial_toggles
from domain.knowledge import sync_knowledge_quietly
from orchestrator.worker import build_worker
from starters.connection import connect, tenant_codec
from starters.platform_schedules import ensure_platform_schedules

log = structlog.get_logger()
# In the order their paths are matched (a tenant's /backup and /users before the tenants' /{tenant_id}/{transition}).
ROUTERS = (tenant_backup, users, tenants, workflows, runs, approvals, failures, secrets, health, webhooks, webhooks_inbound,
           schedules, pricing, data_requests, usage_routes, cost, upgrades, compliance, legal, telemetry, metrics,
           billing, codec, retention, toggles, signup, ai_drafts, ai_diagnoses, ai_help, support, templates, ai_credits)  # fmt: skip


def create_app(settings: Settings) -> FastAPI:
    api_metrics = ApiMetrics()
    app = FastAPI(
        title="Levqor",
        version=VERSION,
        lifespan=_lifespan(settings, api_metrics),
        description=DESCRIPTION,
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
        swagger_ui_parameters={"persistAuthorization": True},
        docs_url=None,  # api/docs.py serves /docs from local files
        redoc_url=None,  # ReDoc would load from a CDN
    )
    install_error_handlers(app)
    install_openapi(app)
    install_docs(app)
    app.add_middleware(ApiCallCounter)
    app.add_middleware(RequestObservability, metrics=api_metrics, slow_request_ms=settings.telemetry_slow_request_ms)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api_max_body_bytes)  # outermost: before anything reads
    for module in ROUTERS:
        app.include_router(module.router)
    install_web(app, settings)
    return app


def _lifespan(settings: Settings, api_metrics: ApiMetrics) -> Callable[[FastAPI], AbstractAsyncContextManager[Any]]:
    """Builds the engine, the Temporal client and (embedded default) a worker at start-up; closes them after."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        configure_logging(settings.log_format, settings.log_level, settings.log_file)
        engine = create_db_engine(settings.database_url)
        use_initial_toggles(engine, settings)
        knowledge = asyncio.create_task(
            asyncio.to_thread(sync_knowledge_quietly, engine, Path(settings.knowledge_readme_path))
        )
        codec = tenant_codec(engine, settings.levqor_secrets_key, settings.payload_key_cache_ttl_s)
        temporal = await connect(settings.temporal_address, settings.temporal_namespace, codec=codec)
        worker_telemetry = TelemetryBuffer(engine, "worker", settings.telemetry_flush_interval_s)
        usage = usage_buffer(engine, settings)  # the API's counts and its embedded worker's
        worker = (
            build_worker(temporal, settings, engine, telemetry=worker_telemetry, usage=usage)
            if settings.api_embedded_worker
            else None
        )
        if worker:
            await ensure_platform_schedules(temporal, settings)
        worker_task = asyncio.create_task(worker.run()) if worker else None
        telemetry = TelemetryBuffer(engine, "api", settings.telemetry_flush_interval_s)
        live = await start_live_bridge(engine, listen=True)  # other processes' live events (PostgreSQL)
        log.info("api started", embedded_worker=worker is not None, task_queue=settings.task_queue)
        try:
            yield {
                "settings": settings,
                "engine": engine,
                "temporal": temporal,
                "started_at": time.monotonic(),
                "callers": CallerCache(settings.api_key_cache_ttl_s),
                "hooks": HookCache(settings.api_key_cache_ttl_s),
                "usage": usage,
                "key_usage": KeyUsage(),
                "telemetry": telemetry,
                "metrics": api_metrics,
            }
        finally:
            telemetry.close()
            if worker and worker_task:
                await worker.shutdown()
                await asyncio.gather(worker_task, return_exceptions=True)
            worker_telemetry.close()
            usage.close()
            if live is not None:
                await live.close()
            await asyncio.gather(knowledge, return_exceptions=True)
            engine.dispose()

    return lifespan
