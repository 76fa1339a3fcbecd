"""`UserWorkflowRun` on the real dev server with the real activities and local fake servers."""

import pytest
from temporalio.client import Client, WorkflowFailureError

from orchestrator.user_run import UserWorkflowRun
from schemas.runs import RunResult
from tests.fakes.openai import FakeOpenAI
from tests.fakes.smtp import SmtpSink
from tests.fakes.target import TargetServer
from tests.orchestrator.runs import make_run, outcome, start, until_progress


async def test_every_step_type_runs_and_feeds_the_next(
    client: Client, worker_queue: str, target_server: TargetServer, smtp_sink: SmtpSink, fake_openai: FakeOpenAI
) -> None:
    run = make_run(
        {"id": "hello", "type": "log", "message": "hello {{ input.name }}"},
        {"id": "prepare", "type": "transform", "set": {"path": "'/json'", "count": "input.count * 2"}},
        {"id": "fetch", "type": "http_request", "url": target_server.url + "{{ vars.path }}"},
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
            "to": ["{{ input.email }}"],
            "subject": "value {{ steps.fetch.body.value }}",
            "body": "count={{ vars.count }}",
        },
        {"id": "summarise", "type": "ai", "prompt": "Summarise {{ steps.fetch.body.items }}"},
        {"id": "pause", "type": "delay", "seconds": 0.2},
        {"id": "auto_gate", "type": "approval", "class": "A", "message": "automatic"},
        input={"name": "Ada", "count": 21, "email": "ops@example.com"},
    )

    result: RunResult = await (await start(client, worker_queue, run)).result()

    assert result.status == "completed"
    assert [step.status for step in result.steps] == ["succeeded"] * 7 + ["approved"]
    assert outcome(result, "hello").result == {"message": "hello Ada"}
    assert result.vars == {"path": "/json", "count": 42}
    assert outcome(result, "fetch").result["body"] == {"value": 42, "items": [1, 2, 3]}
    assert outcome(result, "check").result == {"value": True}
    mail = [m for m in smtp_sink.messages if m.message["Subject"] == "value 42"]
    assert len(mail) == 1 and mail[0].rcpt_tos == ["ops@example.com"]
    assert "[1, 2, 3]" in outcome(result, "summarise").result["text"]
    assert outcome(result, "summarise").result["completion_tokens"] > 0


async def test_condition_false_takes_the_else_branch(client: Client, worker_queue: str) -> None:
    run = make_run(
        {"id": "check", "type": "condition", "expression": "input.amount > 100", "then": "big", "else": "small"},
        {"id": "big", "type": "log", "message": "big", "next": "end"},
        {"id": "small", "type": "log", "message": "small"},
        input={"amount": 5},
    )

    result: RunResult = await (await start(client, worker_queue, run)).result()

    assert [step.step_id for step in result.steps] == ["check", "small"]


async def test_transient_http_failures_are_retried_with_the_same_idempotency_key(
    client: Client, worker_queue: str, target_server: TargetServer
) -> None:
    run = make_run(
        {"id": "call", "type": "http_request", "method": "POST", "url": target_server.url + "/flaky/retry-a?fail=2"}
    )

    result: RunResult = await (await start(client, worker_queue, run)).result()

    calls = target_server.calls_to("/flaky/retry-a")
    assert outcome(result, "call").attempts == 3
    assert len(calls) == 3
    assert {call.headers["idempotency-key"] for call in calls} == {f"{run.run_id}:call"}


async def test_retries_back_off_exponentially(client: Client, worker_queue: str, target_server: TargetServer) -> None:
    # Whole seconds: after its local first attempt the step retries on the server, whose timers fire in
    # about a second at the earliest on the dev server.
    retry = {"max_attempts": 3, "initial_interval_s": 1, "backoff": 3, "max_interval_s": 10}
    run = make_run(
        {"id": "call", "type": "http_request", "url": target_server.url + "/flaky/backoff?fail=2", "retry": retry}
    )

    result: RunResult = await (await start(client, worker_queue, run)).result()

    times = [call.at for call in target_server.calls_to("/flaky/backoff")]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert outcome(result, "call").attempts == 3
    assert [round(gap, 1) >= expected for gap, expected in zip(gaps, (1.0, 3.0), strict=True)] == [True, True]
    assert gaps[1] > gaps[0]


async def test_exhausted_retries_fail_the_run_with_attempts_and_error(
    client: Client, worker_queue: str, target_server: TargetServer
) -> None:
    run = make_run({"id": "call", "type": "http_request", "url": target_server.url + "/status/503"})
    handle = await start(client, worker_queue, run)

    with pytest.raises(WorkflowFailureError):
        await handle.result()

    progress = await handle.query(UserWorkflowRun.progress)
    assert progress.status == "failed"
    assert outcome(progress, "call").attempts == 3
    assert progress.error is not None and progress.error.type == "HttpServerError"


async def test_client_errors_are_not_retried(client: Client, worker_queue: str, target_server: TargetServer) -> None:
    run = make_run({"id": "call", "type": "http_request", "url": target_server.url + "/status/404?once=nr"})
    handle = await start(client, worker_queue, run)

    with pytest.raises(WorkflowFailureError):
        await handle.result()

    progress = await handle.query(UserWorkflowRun.progress)
    assert outcome(progress, "call").attempts == 1
    assert progress.error is not None and progress.error.type == "HttpClientError"


async def test_step_retry_override_takes_precedence(
    client: Client, worker_queue: str, target_server: TargetServer
) -> None:
    retry = {"max_attempts": 1, "initial_interval_s": 0.1}
    run = make_run(
        {"id": "call", "type": "http_request", "url": target_server.url + "/flaky/once-b?fail=1", "retry": retry}
    )
    handle = await start(client, worker_queue, run)

    with pytest.raises(WorkflowFailureError):
        await handle.result()

    assert len(target_server.calls_to("/flaky/once-b")) == 1


async def test_a_failing_expression_fails_the_step_without_retry(client: Client, worker_queue: str) -> None:
    run = make_run({"id": "calc", "type": "transform", "set": {"ratio": "input.a / input.b"}}, input={"a": 1, "b": 0})
    handle = await start(client, worker_queue, run)

    with pytest.raises(WorkflowFailureError):
        await handle.result()

    progress = await handle.query(UserWorkflowRun.progress)
    assert outcome(progress, "calc").error.type == "ExpressionError"


async def test_cancelling_a_run_marks_it_cancelled(client: Client, worker_queue: str) -> None:
    run = make_run({"id": "wait", "type": "delay", "seconds": 600}, {"id": "after", "type": "log", "message": "never"})
    handle = await start(client, worker_queue, run)
    await until_progress(handle, lambda p: p.current_step == "wait")

    await handle.cancel()

    with pytest.raises(WorkflowFailureError):
        await handle.result()
    progress = await handle.query(UserWorkflowRun.progress)
    assert progress.status == "cancelled"
    assert [(s.step_id, s.status) for s in progress.steps] == [("wait", "cancelled")]
