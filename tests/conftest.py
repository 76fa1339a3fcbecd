"""One real Temporal dev server and one database for the whole run, plus the local fakes."""

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
import pytest_asyncio
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, pool, text
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.db import create_db_engine, migrate
from core.security import SecretBox
from core.settings import Settings
from orchestrator.search_attributes import DEFINITION_ID, RUN_STATUS, TENANT_ID
from orchestrator.worker import build_worker
from starters.connection import connect, tenant_codec
from tests.fakes.stripe import API_KEY as STRIPE_API_KEY
from tests.fakes.stripe import WEBHOOK_SECRET as STRIPE_WEBHOOK_SECRET

pytest_plugins = ["tests.fakes.plugin"]

BIN = Path(sys.executable).parent
FOUNDER_TOKEN = "founder-token-for-tests-0123456789"
STRIPE_PRICES = {
    "starter": "price_starter",
    "starter:IN": "price_starter_in",
    "pro": "price_pro",
    "dfy_growth": "price_dfy_growth",
    "enterprise": "price_does_not_exist",
}
T = TypeVar("T")


@pytest_asyncio.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        search_attributes=[TENANT_ID, DEFINITION_ID, RUN_STATUS],
        data_converter=pydantic_data_converter,
        dev_server_extra_args=[
            "--headless",
            *("--dynamic-config-value", "system.enableEagerWorkflowStart=true"),
            # A deleted execution (as retention deletes it) goes once its close tasks are acknowledged: every
            # second here instead of every 30 s, so tests that delete runs need not wait half a minute.
            *("--dynamic-config-value", 'history.transferProcessorUpdateAckInterval="1s"'),
            *("--dynamic-config-value", 'history.visibilityProcessorUpdateAckInterval="1s"'),
        ],
    )
    async with env:
        yield env


@pytest_asyncio.fixture(scope="session")
async def client(temporal_env: WorkflowEnvironment, settings: Settings, engine: Engine) -> Client:
    """A client as the API and the worker connect: with the tenant payload codec."""
    codec = tenant_codec(engine, settings.levqor_secrets_key, settings.payload_key_cache_ttl_s)
    return await connect(settings.temporal_address, settings.temporal_namespace, codec=codec)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of this run's own: a new one on the PostgreSQL server of the test command (DATABASE_URL),
    dropped at the end, or a throwaway SQLite file. Rows of earlier runs (tenant data keys sealed with
    another run's LEVQOR_SECRETS_KEY, counters) never meet this run's."""
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith("postgresql"):
        url = server_url or f"sqlite:///{tmp_path_factory.mktemp('db') / 'levqor.db'}"
        migrate(url)
        yield url
        return
    name = f"levqor_run_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def settings(
    temporal_env: WorkflowEnvironment, database_url: str, smtp_sink: Any, fake_openai: Any, fake_stripe: Any
) -> Settings:
    return Settings(
        database_url=database_url,
        temporal_address=temporal_env.client.service_client.config.target_host,
        task_queue=f"tests-{uuid.uuid4()}",
        levqor_founder_token=FOUNDER_TOKEN,
        levqor_secrets_key=SecretBox.new_key(),
        levqor_http_allow_private=True,
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        openai_api_key="test-key",
        openai_base_url=fake_openai.base_url,
        ai_request_timeout_s=2.0,
        retry_initial_interval_s=0.05,
        retry_max_interval_s=0.2,
        retry_max_attempts=3,
        stripe_api_key=STRIPE_API_KEY,
        stripe_api_base=fake_stripe.url,
        stripe_webhook_secret=STRIPE_WEBHOOK_SECRET,
        stripe_prices=STRIPE_PRICES,
        dunning_grace_period_s=4,
        dunning_reminder_interval_s=1.5,
    )


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest_asyncio.fixture
async def worker_queue(client: Client, settings: Settings, engine: Engine) -> AsyncIterator[str]:
    """A worker with the real activities on a fresh task queue; the runs it leaves open are closed with it."""
    queue = f"test-{uuid.uuid4()}"
    async with build_worker(client, settings, engine, task_queue=queue):
        yield queue
    await close_open_runs(client, queue)


async def close_open_runs(temporal: Client, queue: str) -> None:
    """Terminates the user runs still open on `queue`, whose worker is gone: left open, a run waiting at a gate would
    be listed by every later gate listing (the approval pages, GET /api/approvals) and never answer its query."""
    query = f"WorkflowType = 'UserWorkflowRun' AND TaskQueue = '{queue}' AND ExecutionStatus = 'Running'"
    handles = [temporal.get_workflow_handle(execution.id) async for execution in temporal.list_workflows(query)]
    await asyncio.gather(*(h.terminate(reason="the test's worker is gone") for h in handles), return_exceptions=True)


def close_open_runs_of(app_settings: Settings) -> None:
    """`close_open_runs` for the task queue of an app (`app_settings`) that a synchronous fixture has just stopped:
    on a client and an event loop of its own, in a thread of its own (the caller's thread may be running a loop)."""

    async def close() -> None:
        temporal = await Client.connect(app_settings.temporal_address, namespace=app_settings.temporal_namespace)
        await close_open_runs(temporal, app_settings.task_queue)

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, close()).result()


@pytest.fixture(scope="session")
def api(settings: Settings) -> Iterator[TestClient]:
    """The real app, its embedded worker included, for the whole session."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def founder_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {FOUNDER_TOKEN}"}


async def until(probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], timeout_s: float = 15) -> T:
    """Polls `probe` until `check` holds; the last value on success, AssertionError on timeout."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    value: Any = None
    while True:
        try:
            value = await probe()
            if check(value):
                return value
        except Exception:
            if asyncio.get_running_loop().time() >= deadline:
                raise
        if asyncio.get_running_loop().time() >= deadline:
            raise AssertionError(f"condition not met within {timeout_s} s; last value: {value!r}")
        await asyncio.sleep(0.05)
