"""How a failed step's error type reads as a category of failure, and the healing suggestion for each: what
AutoRecovery writes into the failure queue and what the debugger falls back on when the AI cannot answer."""

import re

from schemas.recovery import Category

TRANSIENT: frozenset[Category] = frozenset({"transient_network"})
CATEGORIES: dict[str, Category] = {
    "HttpTransportError": "transient_network",
    "SmtpTransientError": "transient_network",
    "AiTransientError": "transient_network",
    "HttpRetryableClientError": "transient_network",
    "HttpServerError": "target_5xx",
    "HttpClientError": "auth_4xx",
    "HttpTargetForbidden": "auth_4xx",
    "AiRequestRejected": "auth_4xx",
    "SmtpRejected": "auth_4xx",
    "SecretNotFound": "auth_4xx",
    "AiNotConfigured": "auth_4xx",
    "ExpressionError": "validation",
    "ExpressionTooExpensive": "validation",
    "HttpInvalidRequest": "validation",
    "HttpUnexpectedStatus": "validation",
    "EmailInvalidRecipient": "validation",
    "HttpTooManyRedirects": "validation",
    "Timeout": "timeout",
    "HttpTimeout": "timeout",
    "ApprovalExpired": "approval_timed_out",
}
SUGGESTIONS: dict[Category, str] = {
    "transient_network": "The target was unreachable for a while; re-drive the run once it answers again.",
    "target_5xx": "The target kept failing on its side (5xx); check its status page, then re-drive.",
    "auth_4xx": "The target refused the request (4xx): check credentials, secrets and the request, fix the "
    "definition or the tenant's secrets, then re-drive.",
    "validation": "The step's own data is wrong (expression, URL, address or status); fix the definition and "
    "start a new run.",
    "timeout": "The step ran out of time; raise its timeout_s or check the target's latency, then re-drive.",
    "approval_timed_out": "Nobody decided the approval in time; re-drive and remind the approvers, or set on_timeout.",
    "unknown": "Unclassified failure; read the error and the run's history before re-driving.",
}


def category_of(error_type: str | None) -> Category:
    """The category of a step's error type; `unknown` for a type no rule knows."""
    return CATEGORIES.get(error_type or "", "unknown")


AI_SUGGESTION_PREFIX = "AI: "
"""How a healing suggestion that came from an AI diagnosis starts (the rules' suggestions never do)."""
_ANSWERED = re.compile(r"\banswered (\d{3})\b")


def status_in_message(message: str | None) -> int | None:
    """The HTTP status a step's error message says the target answered (`... answered 503`)."""
    found = _ANSWERED.search(message or "")
    return int(found.group(1)) if found else None


def ai_suggestion(cause: str, summary: str, limit: int = 2_000) -> str:
    """A healing suggestion from an AI diagnosis: marked as the AI's, its cause and the fix it proposes."""
    text = f"{AI_SUGGESTION_PREFIX}{cause.strip()} {summary.strip()}".strip()
    return text[:limit]
