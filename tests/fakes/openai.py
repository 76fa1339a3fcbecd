"""A local server speaking OpenAI's `POST /v1/chat/completions`, answering "echo: <last user message>",
and `GET /v1/models` (what the Heartbeat's AI check lists)."""

import json
import threading
import time
from typing import Any

from tests.fakes import JsonHandler, LocalHttpServer

_ERROR_KINDS = {
    400: ("invalid_request_error", "invalid_value"),
    401: ("invalid_request_error", "invalid_api_key"),
    429: ("rate_limit_exceeded", "rate_limit_exceeded"),
}


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
        body = json.loads(self.read_body() or b"{}")
        number = fake.record(body)
        failure = fake.take_failure()
        if failure is not None:
            self.send_json(failure, _error(failure, f"Fake failure {failure}"))
            return
        self.send_json(200, _completion(number, body))


def _completion(number: int, request: dict[str, Any]) -> dict[str, Any]:
    user_messages = [m for m in request.get("messages", []) if m.get("role") == "user"]
    prompt = user_messages[-1].get("content", "") if user_messages else ""
    prompt = prompt if isinstance(prompt, str) else json.dumps(prompt)
    content = f"echo: {prompt}"
    prompt_tokens, completion_tokens = len(prompt.split()), len(content.split())
    return {
        "id": f"chatcmpl-fake-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake-model"),
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content, "refusal": None},
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
    """Content is `echo: <last user message>`; usage counts whitespace-separated words."""

    handler = _OpenAiHandler

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self._failures: list[int] = []
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

    def fail_next(self, status: int) -> None:
        """Answers the next request with `status` and an OpenAI-shaped error body."""
        with self._lock:
            self._failures.append(status)

    def take_failure(self) -> int | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def reset(self) -> None:
        """Forgets recorded requests and pending failures."""
        with self._lock:
            self.requests.clear()
            self._failures.clear()
