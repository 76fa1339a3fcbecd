"""A local server speaking OpenAI's `POST /v1/chat/completions` and `GET /v1/models` (what the Heartbeat's AI
check lists).

A completion answers, in order: the first scripted `Reply` whose `match` occurs in the request's JSON (see
`script`), else a pending `fail_next` status, else "echo: <last user message>". Scripts let one test steer its
own requests while platform jobs (AutoRecovery, ticket triage) call the same server in the background."""

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from tests.fakes import JsonHandler, LocalHttpServer

_ERROR_KINDS = {
    400: ("invalid_request_error", "invalid_value"),
    401: ("invalid_request_error", "invalid_api_key"),
    429: ("rate_limit_exceeded", "rate_limit_exceeded"),
}


@dataclass
class Reply:
    """One scripted answer. `content` that is not a string is sent JSON-encoded (a structured output); `refusal`
    answers as the model refusing; `status` answers that HTTP error instead; `delay_s` waits first (a timeout).
    Token counts default to the words of the request's messages and of the content."""

    content: Any = None
    refusal: str | None = None
    status: int | None = None
    delay_s: float = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    match: str | None = None


class _OpenAiHandler(JsonHandler):
    server: Any

    def do_GET(self) -> None:
        fake: FakeOpenAI = self.server.fake
        if self.path.split("?", 1)[0] != "/v1/models":
            self.send_json(404, _error(404, f"Unknown path {self.path}"))
            return
        # Not recorded and not failed by fail_next: periodic heartbeats must not disturb completion tests.
        if fake.models_failure is not None:
            self.send_json(fake.models_failure, _error(fake.models_failure, "Fake models failure"))
            return
        model = {"id": "fake-model", "object": "model", "created": 0, "owned_by": "levqor-tests"}
        self.send_json(200, {"object": "list", "data": [model]})

    def do_POST(self) -> None:
        fake: FakeOpenAI = self.server.fake
        if self.path.split("?", 1)[0] != "/v1/chat/completions":
            self.send_json(404, _error(404, f"Unknown path {self.path}"))
            return
        raw = self.read_body() or b"{}"
        body = json.loads(raw)
        number = fake.record(body)
        reply = fake.take_reply(raw.decode("utf-8", "replace"))
        if reply is None:
            failure = fake.take_failure()
            reply = Reply(status=failure) if failure is not None else None
        if reply is not None and reply.delay_s:
            time.sleep(reply.delay_s)
        if reply is not None and reply.status is not None:
            try:
                self.send_json(reply.status, _error(reply.status, f"Fake failure {reply.status}"))
            except ConnectionError:  # the client gave up waiting (a timeout test)
                pass
            return
        try:
            self.send_json(200, _completion(number, body, reply))
        except ConnectionError:
            pass


def _completion(number: int, request: dict[str, Any], reply: Reply | None) -> dict[str, Any]:
    messages = request.get("messages", [])
    user_messages = [m for m in messages if m.get("role") == "user"]
    prompt = user_messages[-1].get("content", "") if user_messages else ""
    prompt = prompt if isinstance(prompt, str) else json.dumps(prompt)
    refusal = reply.refusal if reply is not None else None
    if reply is None:
        content: str | None = f"echo: {prompt}"
    elif refusal is not None:
        content = None
    else:
        content = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
    words_in = sum(len(str(m.get("content", "")).split()) for m in messages)
    prompt_tokens = reply.prompt_tokens if reply is not None and reply.prompt_tokens is not None else words_in
    completion_tokens = (
        reply.completion_tokens
        if reply is not None and reply.completion_tokens is not None
        else len((content or refusal or "").split())
    )
    return {
        "id": f"chatcmpl-fake-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake-model"),
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content, "refusal": refusal},
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _error(status: int, message: str) -> dict[str, Any]:
    kind, code = _ERROR_KINDS.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
    return {"error": {"message": message, "type": kind, "code": code}}


class FakeOpenAI(LocalHttpServer):
    """Content is `echo: <last user message>` unless scripted; usage counts whitespace-separated words."""

    handler = _OpenAiHandler

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self._failures: list[int] = []
        self._replies: list[Reply] = []
        self.models_failure: int | None = None
        """When set, `GET /v1/models` answers this status."""

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def record(self, body: dict[str, Any]) -> int:
        """Keeps a request body and returns how many have been received."""
        with self._lock:
            self.requests.append(body)
            return len(self.requests)

    def script(self, *replies: Reply, match: str | None = None) -> None:
        """Queues `replies`, each answering one later request whose raw JSON contains its `match` (this call's
        `match` unless the reply names its own; None matches every request). Pick a marker only your test's
        requests carry, such as a unique word in the prompt."""
        with self._lock:
            for reply in replies:
                self._replies.append(reply if reply.match is not None or match is None else _matching(reply, match))

    def take_reply(self, raw: str) -> Reply | None:
        with self._lock:
            for index, reply in enumerate(self._replies):
                if reply.match is None or reply.match in raw:
                    return self._replies.pop(index)
            return None

    def requests_matching(self, marker: str) -> list[dict[str, Any]]:
        """The recorded request bodies whose JSON contains `marker`."""
        with self._lock:
            return [body for body in self.requests if marker in json.dumps(body, ensure_ascii=False)]

    def fail_next(self, status: int) -> None:
        """Answers the next unscripted request with `status` and an OpenAI-shaped error body."""
        with self._lock:
            self._failures.append(status)

    def take_failure(self) -> int | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def reset(self) -> None:
        """Forgets recorded requests, scripted replies and pending failures."""
        with self._lock:
            self.requests.clear()
            self._failures.clear()
            self._replies.clear()


def _matching(reply: Reply, match: str) -> Reply:
    return Reply(
        reply.content, reply.refusal, reply.status, reply.delay_s, reply.prompt_tokens, reply.completion_tokens, match
    )
