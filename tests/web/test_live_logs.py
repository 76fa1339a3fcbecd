"""The live log stream over a real socket (uvicorn, httpx streaming): a real run's start and failure, an audit
entry, filters by tenant and level, resuming after the last event seen, masking, heartbeats, the stream limit,
the founder alone (404 for a tenant admin), and a server that still stops at once with a stream open."""

import json
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import structlog
import uvicorn

import api.web.live_stream as live_stream
from api.main import create_app
from core.live_events import HUB
from core.settings import Settings
from tests.conftest import FOUNDER_TOKEN, founder_headers
from tests.fakes import unused_port
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import CSRF, unique_email, wait_for_link

STREAM = "/admin/power/logs/stream"
Served = tuple[str, uvicorn.Server, threading.Thread]


def serve(settings: Settings) -> Served:
    port = unused_port()
    own = settings.model_copy(
        update={
            "founder_email": "founder@levqor.test",
            "task_queue": f"live-logs-{uuid.uuid4()}",
            "web_base_url": f"http://127.0.0.1:{port}",
            "sign_in_links_per_ip": 10_000,
        }
    )
    server = uvicorn.Server(uvicorn.Config(create_app(own), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


@pytest.fixture(scope="module")
def served(settings: Settings) -> Iterator[Served]:
    found = serve(settings)
    yield found
    found[1].should_exit = True
    found[2].join(timeout=15)


def founder_client(url: str) -> httpx.Client:
    """A client signed in to the web app as the founder (with the founder token)."""
    client = httpx.Client(base_url=url, timeout=10)
    form = client.get("/auth/token")
    csrf = CSRF.search(form.text)
    assert csrf
    signed = client.post("/auth/token", data={"token": FOUNDER_TOKEN, "csrf_token": csrf.group(1)})
    assert signed.status_code in (200, 303), signed.text[:300]
    return client


class Stream:
    """An SSE stream read on a thread of its own: its events (parsed) and comments arrive on queues."""

    def __init__(self, client: httpx.Client, query: str) -> None:
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.comments: queue.Queue[str] = queue.Queue()
        self.ended = threading.Event()
        self.response: httpx.Response | None = None
        self._opened = threading.Event()
        threading.Thread(target=self._read, args=(client, query), daemon=True).start()
        assert self._opened.wait(10), "the stream did not open"

    def _read(self, client: httpx.Client, query: str) -> None:
        try:
            with client.stream("GET", f"{STREAM}?{query}", timeout=httpx.Timeout(10, read=None)) as response:
                self.response = response
                self._opened.set()
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        self.events.put(json.loads(line.removeprefix("data: ")))
                    elif line.startswith(":"):
                        self.comments.put(line)
        except httpx.HTTPError:
            pass
        finally:
            self._opened.set()
            self.ended.set()

    def until(self, check: Any, timeout_s: float = 20) -> list[dict[str, Any]]:
        """Every event read until one satisfies `check` (AssertionError at the timeout)."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=0.1)
            except queue.Empty:
                continue
            seen.append(event)
            if check(event):
                return seen
        raise AssertionError(
            f"not seen within {timeout_s} s; got {[e['event'] for e in seen]} (ended: {self.ended.is_set()})"
        )

    def until_seen(self, *names: str) -> list[dict[str, Any]]:
        """Every event read until each of `names` was among them."""
        missing = set(names)

        def all_seen(event: dict[str, Any]) -> bool:
            missing.discard(event["event"])
            return not missing

        return self.until(all_seen)

    def close(self) -> None:
        if self.response is not None:
            self.response.close()


def failing_run(url: str) -> tuple[str, str, dict[str, str]]:
    """A tenant whose run's HTTP step calls a port nobody listens on: (tenant id, run id, its admin key)."""
    with httpx.Client(base_url=url, headers=founder_headers(), timeout=10) as api:
        created = api.post("/api/tenants", json={"name": "Unreachable Ltd", "plan": "pro"}).json()
    key = {"Authorization": f"Bearer {created['api_key']['key']}"}
    step = {"id": "call", "type": "http_request", "method": "POST", "url": f"http://127.0.0.1:{unused_port()}/hook"}
    with httpx.Client(base_url=url, headers=key, timeout=10) as api:
        workflow = api.post("/api/workflows", json={"name": "Notify", "steps": [step]}).json()
        run = api.post(f"/api/workflows/{workflow['id']}/runs", json={"input": {}})
        assert run.status_code in (200, 201, 202), run.text
    return created["tenant"]["id"], run.json()["run_id"], key


def test_a_founder_sees_a_real_runs_start_and_failure_and_an_audit_entry_filtered_by_tenant(
    served: Served, smtp_sink: SmtpSink
) -> None:
    url = served[0]
    founder = founder_client(url)
    everything = Stream(founder, "level=debug")
    tenant_id, run_id, _key = failing_run(url)
    mine = Stream(founder, f"tenant={tenant_id}")
    warnings = Stream(founder, f"tenant={tenant_id}&level=warning")
    with httpx.Client(base_url=url, headers=founder_headers()) as api:
        invited = api.post(f"/api/tenants/{tenant_id}/users", json={"email": unique_email("ops"), "role": "admin"})
    assert invited.status_code == 201

    seen = mine.until_seen("run failed", "user.invited")
    filtered = warnings.until(lambda e: e["event"] == "run failed")

    started = next(e for e in seen if e["event"] == "run started")
    failed = next(e for e in seen if e["event"] == "run failed")
    assert (started["source"], started["level"], started["fields"]["run_id"]) == ("run", "info", run_id)
    assert (failed["source"], failed["level"], failed["fields"]["error_type"]) == (
        "run",
        "warning",
        "HttpTransportError",
    )
    assert {e["tenant_id"] for e in seen} == {tenant_id}
    assert any(e["source"] == "telemetry" and "HttpTransportError" in e["event"] for e in seen)
    assert all(e["level"] in ("warning", "error", "critical") for e in filtered)
    assert "run started" not in [e["event"] for e in filtered]
    # The unfiltered stream saw the same run start, among events of other tenants and none.
    everything.until(lambda e: e["event"] == "run started" and e["fields"].get("run_id") == run_id)
    for stream in (everything, mine, warnings):
        stream.close()
    founder.close()


def test_secrets_and_email_addresses_never_reach_the_stream_in_clear(served: Served) -> None:
    founder = founder_client(served[0])
    stream = Stream(founder, "source=log")
    marker = uuid.uuid4().hex

    structlog.get_logger().warning(
        "customer complained", marker=marker, email="jane.doe@example.com", api_key="lvq_live_abcdefghijklmnop",
        note="called with Bearer sk_live_abcdefghijklmnop",
    )  # fmt: skip
    (event,) = [
        e for e in stream.until(lambda e: e["fields"].get("marker") == marker) if e["event"] == "customer complained"
    ]

    text = json.dumps(event)
    assert "jane.doe@example.com" not in text and "abcdefghijklmnop" not in text
    assert event["fields"]["email"] == "j***@example.com" and event["fields"]["api_key"] == "***"
    stream.close()
    founder.close()


def test_a_stream_resumes_after_the_last_event_it_showed(served: Served) -> None:
    founder = founder_client(served[0])
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    stream = Stream(founder, "source=log")
    structlog.get_logger().info("first", marker=first)
    seen = stream.until(lambda e: e["fields"].get("marker") == first)
    stream.close()
    structlog.get_logger().info("while paused", marker=second)

    resumed = Stream(founder, f"source=log&after={seen[-1]['seq']}")
    later = resumed.until(lambda e: e["fields"].get("marker") == second)

    assert first not in json.dumps(later)
    resumed.close()
    founder.close()


def test_quiet_streams_get_heartbeat_comments(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_stream, "HEARTBEAT_S", 0.2)
    founder = founder_client(served[0])

    stream = Stream(founder, f"tenant=nobody-{uuid.uuid4().hex[:6]}")

    assert stream.comments.get(timeout=5) == ": connected"
    assert stream.comments.get(timeout=5) == ": keep-alive"
    stream.close()
    founder.close()


def test_streams_past_the_limit_are_refused(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    founder = founder_client(served[0])
    open_now = Stream(founder, "level=critical")
    monkeypatch.setattr(HUB, "_max_streams", len(HUB._subscriptions))

    refused = founder.get(STREAM)

    assert refused.status_code == 429
    open_now.close()
    founder.close()


def test_the_stream_and_page_are_the_founders_alone(served: Served, smtp_sink: SmtpSink) -> None:
    url = served[0]
    email = unique_email("admin")
    with httpx.Client(base_url=url, headers=founder_headers()) as api:
        tenant = api.post("/api/tenants", json={"name": "Curious Co", "plan": "pro"}).json()["tenant"]["id"]
        assert api.post(f"/api/tenants/{tenant}/users", json={"email": email, "role": "admin"}).status_code == 201
    token = wait_for_link(smtp_sink, email)
    admin = httpx.Client(base_url=url, timeout=10)
    landing = admin.get(f"/auth/link?token={token}")
    csrf = CSRF.search(landing.text)
    assert csrf
    assert admin.post("/auth/link", data={"token": token, "csrf_token": csrf.group(1)}).status_code in (200, 303)

    page, stream = admin.get("/admin/power/logs"), admin.get(STREAM)
    anonymous = httpx.get(f"{url}{STREAM}", follow_redirects=False)

    assert admin.get("/app").status_code == 200  # signed in, as a tenant admin
    assert (page.status_code, stream.status_code) == (404, 404)
    assert anonymous.status_code in (303, 401, 404) and "text/event-stream" not in anonymous.headers.get(
        "content-type", ""
    )
    admin.close()


def test_uvicorn_stops_at_once_with_a_stream_open(settings: Settings) -> None:
    url, server, thread = serve(settings)
    founder = founder_client(url)
    stream = Stream(founder, "level=debug")

    began = time.monotonic()
    server.should_exit = True
    thread.join(timeout=15)

    assert not thread.is_alive() and time.monotonic() - began < 5
    assert stream.ended.wait(5)
    founder.close()
