"""Outbound HTTP for workflow steps. One client per worker, shared by every call."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.network import first_forbidden_address
from activities.secrets import SecretStore, fill, placeholders_in, redact
from schemas.runs import HttpCall, HttpReply

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRYABLE_CLIENT_STATUSES = frozenset({408, 425, 429})
HEARTBEAT_INTERVAL_MAX = timedelta(seconds=5)
RETRY_AFTER_MAX = timedelta(minutes=5)
_BODY_HEADERS = ("content-type", "content-length", "transfer-encoding")


def build_http_client() -> httpx.AsyncClient:
    """The worker's one client: no automatic redirects (the activity follows them after checking each
    target), room for ~200 concurrent calls, no cookie jar (the client is shared by every tenant), and no
    proxy or certificate settings taken from the environment."""
    return httpx.AsyncClient(
        follow_redirects=False,
        # httpcore 1.0's pool does work proportional to idle x open connections on every request; with
        # hundreds kept alive, 200 concurrent calls took 2-5 s instead of 0.5 s. 20 idle measured best.
        limits=httpx.Limits(max_connections=400, max_keepalive_connections=20),
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        trust_env=False,
    )


class HttpActivities:
    def __init__(
        self,
        client: httpx.AsyncClient,
        allow_private: bool,
        max_response_bytes: int,
        max_redirects: int,
        secrets: SecretStore | None = None,
    ) -> None:
        """`client` must not follow redirects itself; `build_http_client` makes a suitable one."""
        self._client = client
        self._secrets = secrets
        self._allow_private = allow_private
        self._max_response_bytes = max_response_bytes
        self._max_redirects = max_redirects

    @activity.defn(name="http_request")
    async def call(self, call: HttpCall) -> HttpReply:
        """Sends `call`, following up to `max_redirects` redirects, each target checked against the address
        policy. The whole exchange has `call.timeout_s`. The reply body is JSON when the server says so and
        the body was not cut at `max_response_bytes`, else text; None unless `call.save_response`.

        Raises ApplicationError, details[0] = {"attempt", "status"?}. Non-retryable: HttpInvalidRequest,
        HttpTargetForbidden, HttpTooManyRedirects, HttpClientError (4xx), HttpUnexpectedStatus (a status
        outside `expected_status` below 400). Retryable: HttpRetryableClientError (408/425/429),
        HttpServerError (5xx), HttpTimeout, HttpTransportError."""
        where = _describe(call.method, call.url)
        secrets = await self._resolve_secrets(call)
        async with _heartbeating():
            try:
                async with asyncio.timeout(call.timeout_s):
                    reply = await self._exchange(_filled(call, secrets))
            except ApplicationError as err:
                raise _redacted(err, secrets) from None
            except (TimeoutError, httpx.TimeoutException):
                raise _failure(f"{where} timed out after {call.timeout_s:g}s", "HttpTimeout") from None
            except httpx.LocalProtocolError as err:
                raise _failure(f"{where} is not a valid request: {err}", "HttpInvalidRequest", final=True) from None
            except Exception as err:
                raise _failure(f"{where} failed: {type(err).__name__}: {err}", "HttpTransportError") from err
        activity.logger.info("http step answered", extra={"target": where, "status": reply.status})
        return reply.model_copy(update={"headers": redact(reply.headers, secrets), "body": redact(reply.body, secrets)})

    async def _resolve_secrets(self, call: HttpCall) -> dict[str, str]:
        """The values of the `secrets.NAME` the call uses; they never leave this activity unredacted."""
        names = placeholders_in([call.url, call.headers, call.json_body, call.body])
        if not names:
            return {}
        if self._secrets is None or call.tenant_id is None:
            raise _failure("this worker has no secret store to resolve secrets", "SecretNotFound", final=True)
        try:
            return await asyncio.to_thread(self._secrets.resolve, call.tenant_id, names)
        except KeyError as err:
            raise _failure(str(err.args[0]), "SecretNotFound", final=True) from None

    async def _exchange(self, call: HttpCall) -> HttpReply:
        request = _first_request(self._client, call)
        for _hop in range(self._max_redirects + 1):
            await self._check_target(request.url)
            response = await self._client.send(request, stream=True)
            try:
                # A redirect the caller expects is the answer, not an instruction to follow.
                expected = response.status_code in call.expected_status
                redirect = None if expected else _redirect_request(self._client, request, response)
                if redirect is None:
                    return await self._reply(call, response)
            finally:
                await response.aclose()
            request = redirect
        raise _failure(
            f"{_describe(call.method, call.url)} redirected more than {self._max_redirects} times",
            "HttpTooManyRedirects",
            final=True,
        )

    async def _check_target(self, url: httpx.URL) -> None:
        """Refuses non-http(s) URLs and, unless private targets are allowed, hosts that resolve to any
        address the policy forbids. Runs before every hop, so a redirect cannot lead past it."""
        if url.scheme not in ("http", "https") or not url.host:
            raise _failure(
                f"only http and https URLs with a host can be called, not {_describe('', url)}",
                "HttpInvalidRequest",
                final=True,
            )
        if self._allow_private:
            return
        host = url.raw_host.decode("ascii")
        try:
            forbidden = await first_forbidden_address(host, url.port or (443 if url.scheme == "https" else 80))
        except socket.gaierror as err:
            raise _failure(f"could not resolve {host}: {err.strerror}", "HttpTransportError") from None
        if forbidden is not None:
            raise _failure(
                f"{host} resolves to {forbidden}, a private or reserved address; steps may only call public hosts",
                "HttpTargetForbidden",
                final=True,
            )

    async def _reply(self, call: HttpCall, response: httpx.Response) -> HttpReply:
        _check_status(call, response)
        headers = dict(response.headers.items())
        attempt = activity.info().attempt
        if not call.save_response:
            return HttpReply(status=response.status_code, headers=headers, body=None, attempt=attempt)
        raw, truncated = await _read_at_most(response, self._max_response_bytes)
        return HttpReply(
            status=response.status_code,
            headers=headers,
            body=_decode(response, raw, truncated),
            truncated=truncated,
            attempt=attempt,
        )


def _filled(call: HttpCall, secrets: dict[str, str]) -> HttpCall:
    if not secrets:
        return call
    return call.model_copy(
        update={
            "url": fill(call.url, secrets),
            "headers": fill(call.headers, secrets),
            "json_body": fill(call.json_body, secrets),
            "body": fill(call.body, secrets),
        }
    )


def _redacted(err: ApplicationError, secrets: dict[str, str]) -> ApplicationError:
    """The same failure with any secret value in its message masked."""
    if not secrets:
        return err
    return ApplicationError(
        redact(err.message, secrets),
        *err.details,
        type=err.type,
        non_retryable=err.non_retryable,
        next_retry_delay=err.next_retry_delay,
    )


def _first_request(client: httpx.AsyncClient, call: HttpCall) -> httpx.Request:
    """The call as a request: our Idempotency-Key unless the call sets its own, the call's headers,
    `json_body` as JSON or else `body` as text."""
    if not call.method.isascii() or not call.method.isalpha():
        raise _failure(f"{call.method!r} is not an HTTP method", "HttpInvalidRequest", final=True)
    try:
        headers = httpx.Headers({"Idempotency-Key": call.idempotency_key})
        headers.update(call.headers)
        return client.build_request(
            call.method.upper(),
            call.url,
            headers=headers,
            json=call.json_body,
            content=call.body if call.json_body is None else None,
            timeout=httpx.Timeout(call.timeout_s),
        )
    except (httpx.InvalidURL, ValueError, TypeError) as err:
        raise _failure(
            f"{_describe(call.method, call.url)} is not a valid request: {err}",
            "HttpInvalidRequest",
            final=True,
        ) from None


def _redirect_request(
    client: httpx.AsyncClient, request: httpx.Request, response: httpx.Response
) -> httpx.Request | None:
    """The request a redirect asks for, or None when `response` is final. 303, and 301/302 after a POST,
    become a GET without a body (RFC 9110 §15.4); credentials are not carried to another origin."""
    location = response.headers.get("location")
    if response.status_code not in REDIRECT_STATUSES or not location:
        return None
    try:
        url = request.url.join(location)
    except httpx.InvalidURL as err:
        raise _failure(f"redirect to an invalid URL: {err}", "HttpInvalidRequest", final=True) from None
    method = request.method
    content: bytes | None = request.content
    headers = httpx.Headers(request.headers)
    headers.pop("host", None)
    if (response.status_code == 303 and method != "HEAD") or (response.status_code in (301, 302) and method == "POST"):
        method, content = "GET", None
        for name in _BODY_HEADERS:
            headers.pop(name, None)
    if (url.scheme, url.raw_host, url.port) != (request.url.scheme, request.url.raw_host, request.url.port):
        headers.pop("authorization", None)
        headers.pop("cookie", None)
    return client.build_request(method, url, headers=headers, content=content, extensions=request.extensions)


def _check_status(call: HttpCall, response: httpx.Response) -> None:
    """Accepts a status in `expected_status`, or, when that list is empty, any final status below 400."""
    status = response.status_code
    if status in call.expected_status or (not call.expected_status and status < 400):
        return
    message = f"{_describe(call.method, response.request.url)} answered {status}"
    if status in RETRYABLE_CLIENT_STATUSES:
        raise _failure(message, "HttpRetryableClientError", status=status, retry_after=_retry_after(response))
    if 400 <= status < 500:
        raise _failure(message, "HttpClientError", status=status, final=True)
    if status >= 500:
        raise _failure(message, "HttpServerError", status=status, retry_after=_retry_after(response))
    raise _failure(
        f"{message}, expected one of {call.expected_status}",
        "HttpUnexpectedStatus",
        status=status,
        final=True,
    )


async def _read_at_most(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """The (decompressed) body up to `limit` bytes, and whether there was more."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        room = limit - size
        if len(chunk) > room:
            chunks.append(chunk[:room])
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


def _decode(response: httpx.Response, raw: bytes, truncated: bool) -> object:
    text = raw.decode(response.encoding or "utf-8", errors="replace")
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if truncated or not (media_type == "application/json" or media_type.endswith("+json")):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _retry_after(response: httpx.Response) -> timedelta | None:
    """A Retry-After given in seconds, capped; the HTTP-date form is left to the retry policy."""
    value = response.headers.get("retry-after", "").strip()
    if not value.isdigit():
        return None
    return min(timedelta(seconds=int(value)), RETRY_AFTER_MAX)


def _describe(method: str, url: str | httpx.URL) -> str:
    """Method, origin and path for messages and logs: never the query or user info, which may hold secrets."""
    try:
        parsed = httpx.URL(url)
        target = f"{parsed.scheme}://{parsed.netloc.decode('ascii')}{parsed.path}"
    except (httpx.InvalidURL, ValueError, TypeError):
        target = "<invalid URL>"
    return f"{method.upper()} {target}".strip()


@asynccontextmanager
async def _heartbeating() -> AsyncIterator[None]:
    """Heartbeats a few times per heartbeat timeout while the body runs, when the activity has one."""
    info = activity.info()
    if not info.heartbeat_timeout or info.is_local:
        yield
        return
    interval = min(info.heartbeat_timeout / 3, HEARTBEAT_INTERVAL_MAX).total_seconds()
    task = asyncio.create_task(_heartbeat_every(interval))
    try:
        yield
    finally:
        task.cancel()


async def _heartbeat_every(interval_s: float) -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(interval_s)


def _failure(
    message: str,
    type: str,
    *,
    final: bool = False,
    status: int | None = None,
    retry_after: timedelta | None = None,
) -> ApplicationError:
    """The error every failure becomes; `final` marks it non-retryable."""
    details: dict[str, int] = {"attempt": activity.info().attempt}
    if status is not None:
        details["status"] = status
    return ApplicationError(message, details, type=type, non_retryable=final, next_retry_delay=retry_after)
