"""Outbound HTTP for workflow steps. One client per worker, shared by every call."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpcore
import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.network import PinnedDial, Resolver, first_forbidden_address, pinned, resolve
from activities.secrets import SecretStore, fill, placeholders_in, redact
from schemas.runs import HttpCall, HttpReply

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRYABLE_CLIENT_STATUSES = frozenset({408, 425, 429})
HEARTBEAT_INTERVAL_MAX = timedelta(seconds=5)
RETRY_AFTER_MAX = timedelta(minutes=5)
_BODY_HEADERS = ("content-type", "content-length", "transfer-encoding")
# Headers that carry credentials; with any header whose value held a secret, never sent to another origin.
_CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")
# httpcore 1.0's pool does work proportional to idle x open connections on every request; with hundreds
# kept alive, 200 concurrent calls took 2-5 s instead of 0.5 s. 20 idle measured best.
_LIMITS = httpx.Limits(max_connections=400, max_keepalive_connections=20)


def build_http_client(dial: httpcore.AsyncNetworkBackend | None = None) -> httpx.AsyncClient:
    """The worker's one client: no automatic redirects (the activity follows them after checking each
    target), connections only to the addresses the activity checked (`PinnedDial`, which makes them with
    `dial`), room for ~200 concurrent calls, no cookie jar (the client is shared by every tenant), and no
    proxy or certificate settings taken from the environment."""
    transport = httpx.AsyncHTTPTransport(limits=_LIMITS, trust_env=False)
    # httpx takes no network backend; its pool is rebuilt with the same settings and the pinned dial.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=_LIMITS.max_connections,
        max_keepalive_connections=_LIMITS.max_keepalive_connections,
        keepalive_expiry=_LIMITS.keepalive_expiry,
        network_backend=PinnedDial(dial),
    )
    return httpx.AsyncClient(
        follow_redirects=False,
        transport=transport,
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
        resolver: Resolver = resolve,
    ) -> None:
        """`client` must not follow redirects itself and must connect through `PinnedDial`;
        `build_http_client` makes a suitable one. `resolver` answers the address check (once per hop)."""
        self._client = client
        self._secrets = secrets
        self._resolve = resolver
        self._allow_private = allow_private
        self._max_response_bytes = max_response_bytes
        self._max_redirects = max_redirects

    @activity.defn(name="http_request")
    async def call(self, call: HttpCall) -> HttpReply:
        """Sends `call`, following up to `max_redirects` redirects, each target checked against the address
        policy. The whole exchange has `call.timeout_s`. The reply body is JSON when the server says so and
        the body was not cut at `max_response_bytes`, else text; None unless `call.save_response`.

        Secrets: only placeholders that carry the call's `secret_marker` and name one of its `secret_names`
        are filled in; every error message is redacted and carries no cause, so no secret value leaves.
        A redirect to another origin drops the credential headers and every header that held a secret, and
        is refused (HttpRedirectRefused) when it would carry a body that held one.

        Raises ApplicationError, details[0] = {"attempt", "status"?}. Non-retryable: HttpInvalidRequest,
        HttpTargetForbidden, HttpTooManyRedirects, HttpRedirectRefused, HttpClientError (4xx),
        HttpUnexpectedStatus (a status outside `expected_status` below 400). Retryable:
        HttpRetryableClientError (408/425/429), HttpServerError (5xx), HttpTimeout, HttpTransportError, and
        HttpAnswerBudgetExceeded: a local attempt with `answer_budget_s` got no answer within it."""
        where = _describe(call.method, call.url)
        secrets = await self._resolve_secrets(call)
        budget = call.answer_budget_s if activity.info().is_local else None
        limit = min(call.timeout_s, budget) if budget is not None else call.timeout_s
        async with _heartbeating():
            try:
                async with asyncio.timeout(limit):
                    reply = await self._exchange(call, secrets)
            except ApplicationError as err:
                raise _redacted(err, secrets) from None
            except (TimeoutError, httpx.TimeoutException):
                if limit < call.timeout_s:
                    message = f"{where} gave no answer within the local attempt's {limit:g}s"
                    raise _failure(message, "HttpAnswerBudgetExceeded") from None
                raise _failure(f"{where} timed out after {call.timeout_s:g}s", "HttpTimeout") from None
            except httpx.LocalProtocolError as err:
                message = redact(f"{where} is not a valid request: {err}", secrets)
                raise _failure(message, "HttpInvalidRequest", final=True) from None
            except Exception as err:
                message = redact(f"{where} failed: {type(err).__name__}: {err}", secrets)
                raise _failure(message, "HttpTransportError") from None
        activity.logger.info("http step answered", extra={"target": where, "status": reply.status})
        return reply.model_copy(update={"headers": redact(reply.headers, secrets), "body": redact(reply.body, secrets)})

    async def _resolve_secrets(self, call: HttpCall) -> dict[str, str]:
        """The values of the `secrets.NAME` the call uses; they never leave this activity unredacted."""
        rendered = placeholders_in([call.url, call.headers, call.json_body, call.body], call.secret_marker)
        names = rendered & set(call.secret_names)
        if not names:
            return {}
        if self._secrets is None or call.tenant_id is None:
            raise _failure("this worker has no secret store to resolve secrets", "SecretNotFound", final=True)
        try:
            return await asyncio.to_thread(self._secrets.resolve, call.tenant_id, names)
        except KeyError as err:
            raise _failure(str(err.args[0]), "SecretNotFound", final=True) from None

    async def _exchange(self, call: HttpCall, secrets: dict[str, str]) -> HttpReply:
        request = _first_request(self._client, _filled(call, secrets))
        held = _Held.of(call, secrets)
        for _hop in range(self._max_redirects + 1):
            addresses = await self._checked_addresses(request.url)
            with pinned(request.url.raw_host.decode("ascii"), addresses):
                response = await self._client.send(request, stream=True)
            try:
                # A redirect the caller expects is the answer, not an instruction to follow.
                expected = response.status_code in call.expected_status
                redirect = None if expected else _redirect_request(self._client, request, response, held)
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

    async def _checked_addresses(self, url: httpx.URL) -> list[str]:
        """The addresses to connect `url` to: refuses non-http(s) URLs and, unless private targets are
        allowed, hosts that resolve to any address the policy forbids. Runs before every hop, so a redirect
        cannot lead past it, and the connection goes to exactly the addresses checked here."""
        if url.scheme not in ("http", "https") or not url.host:
            raise _failure(
                f"only http and https URLs with a host can be called, not {_describe('', url)}",
                "HttpInvalidRequest",
                final=True,
            )
        host = url.raw_host.decode("ascii")
        if self._allow_private:
            return [host]  # any address will do: the dial resolves the name itself
        try:
            addresses = await self._resolve(host, url.port or (443 if url.scheme == "https" else 80))
        except socket.gaierror as err:
            raise _failure(f"could not resolve {host}: {err.strerror}", "HttpTransportError") from None
        if not addresses:
            raise _failure(f"could not resolve {host}: no addresses", "HttpTransportError")
        forbidden = first_forbidden_address(addresses)
        if forbidden is not None:
            raise _failure(
                f"{host} resolves to {forbidden}, a private or reserved address; steps may only call public hosts",
                "HttpTargetForbidden",
                final=True,
            )
        return addresses

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


@dataclass(frozen=True)
class _Held:
    """Where a call's secrets went: the (lower-case) headers whose values held one, and whether its body did."""

    headers: frozenset[str] = frozenset()
    body: bool = False

    @staticmethod
    def of(call: HttpCall, secrets: dict[str, str]) -> "_Held":
        if not secrets:
            return _Held()

        def holds(value: object) -> bool:
            return bool(placeholders_in(value, call.secret_marker) & secrets.keys())

        return _Held(
            headers=frozenset(name.lower() for name, value in call.headers.items() if holds(value)),
            body=holds([call.json_body, call.body]),
        )


def _filled(call: HttpCall, secrets: dict[str, str]) -> HttpCall:
    if not secrets or call.secret_marker is None:
        return call
    marker = call.secret_marker
    return call.model_copy(
        update={
            "url": fill(call.url, secrets, marker),
            "headers": fill(call.headers, secrets, marker),
            "json_body": fill(call.json_body, secrets, marker),
            "body": fill(call.body, secrets, marker),
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
    client: httpx.AsyncClient, request: httpx.Request, response: httpx.Response, held: _Held
) -> httpx.Request | None:
    """The request a redirect asks for, or None when `response` is final. 303, and 301/302 after a POST,
    become a GET without a body (RFC 9110 §15.4). Credentials are not carried to another origin (scheme,
    host or port): neither the credential headers nor any header that held a secret, and a body that held
    a secret is not re-sent there (HttpRedirectRefused)."""
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
        for name in (*_CREDENTIAL_HEADERS, *held.headers):
            headers.pop(name, None)
        if content and held.body:
            raise _failure(
                f"{_describe(method, request.url)} redirected to another origin, {_describe('', url)}; "
                "its body holds a secret and is not sent there",
                "HttpRedirectRefused",
                final=True,
            )
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
