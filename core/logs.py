"""Logging: stdlib records (Temporal's included) and structlog events through one structlog formatter."""

import logging
import re
import sys
from typing import Any

import structlog
from structlog.types import EventDict, WrappedLogger
from temporalio import activity, workflow

from schemas.runs import RUN_WORKFLOW_PREFIX

# A key whose name contains one of these holds a secret: its value is never logged.
SECRET_KEY = re.compile(r"authorization|api_?key|password|passwd|token|secret|cookie|credential|signature", re.I)
EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# Values that look like credentials wherever they appear: bearer tokens, Stripe/OpenAI keys, Levqor API keys
# and webhook URL tokens (an HTTP client's request line names the hook's path).
SECRET_VALUE = re.compile(
    r"(?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,}|\b(?:sk|rk|pk|whsec)[_-][A-Za-z0-9_-]{8,}|\b(?:lvq|whk)_[A-Za-z0-9_-]{8,}"
)
TEMPORAL_EXTRAS = ("temporal_activity", "temporal_workflow")
# Extras that only repeat the message for a terminal: uvicorn's `color_message` holds escape codes.
TERMINAL_EXTRAS = ("color_message",)
QUIET_LOGGERS = ("uvicorn.access", "httpx", "httpcore")


def configure_logging(fmt: str = "console", level: str = "INFO", file: str | None = None) -> None:
    """JSON lines when deployed, readable console output locally; safe to call more than once.
    With `file`, every record is also appended there as a JSON line."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _lift_temporal_context,
        _drop_terminal_extras,
        _redact_secrets,
    ]
    # The live tail sees each record once: in structlog's own chain, and for stdlib records in the chain of
    # the first handler only (each handler's formatter runs its pre-chain on a copy of the record).
    fed = [*shared, _feed_live_tail]
    # Temporal's adapters would also append their whole context dict to every message, formatted each time;
    # `_lift_temporal_context` already turns the same context (in the record's extras) into flat keys.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    structlog.configure(
        processors=[*fed, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_json_formatter(fed) if fmt == "json" else _console_formatter(fed))
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, logging.FileHandler):
            old.close()
    root.handlers = [handler]
    if file:
        to_file = logging.FileHandler(file, encoding="utf-8")
        to_file.setFormatter(_json_formatter(shared))
        root.handlers.append(to_file)
    root.setLevel(level.upper())
    # Their INFO lines carry full URLs: a request path holds a hook's token, a step's URL may hold a resolved secret.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # The live tail imports this module (its masking): imported here, not at the top, to avoid the cycle.
    from core.live_events import feed_tables

    feed_tables()


def _console_formatter(shared: list[structlog.types.Processor]) -> logging.Formatter:
    """Readable lines. Colours only where a person reads a terminal: escape codes in a file or a pipe are noise,
    and cost CPU. Plain tracebacks: rich's, with every frame's locals, took about 0.6 s per failed activity
    attempt on the event loop that also answers the API (bench.responsive), and printed values a secret might
    be among."""
    renderer = structlog.dev.ConsoleRenderer(
        colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared, processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]
    )


def _json_formatter(shared: list[structlog.types.Processor]) -> logging.Formatter:
    """One JSON object a line, a traceback as the `exception` text (masked like the rest: an exception's
    message may quote a credential)."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact_secrets,
            structlog.processors.JSONRenderer(),
        ],
    )


def redact_text(text: str) -> str:
    """`text` with e-mail addresses shortened to `j***@example.com` and credential-looking values masked."""
    if "@" in text:
        text = EMAIL.sub(r"\1***@\2", text)
    return SECRET_VALUE.sub("***", text)


def redact(value: Any) -> Any:
    """A copy of `value` (strings, dicts, lists) with secrets and e-mail addresses masked."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: "***" if _secret_entry(k, v) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def _secret_entry(key: object, value: Any) -> bool:
    # Counts such as `max_tokens` are not secrets; only text under a secret-sounding key is.
    return isinstance(key, str) and isinstance(value, str | bytes | dict | list) and bool(SECRET_KEY.search(key))


def _redact_secrets(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    return redact(event)


# Keys of a log event that are not its fields on the live tail.
LIVE_SKIPPED = frozenset(
    {"event", "level", "logger", "timestamp", "tenant_id", "exc_info", "stack_info", "_record", "_from_structlog"}
)


def _feed_live_tail(_logger: WrappedLogger, name: str, event: EventDict) -> EventDict:
    """Hands the (masked) event to the live stream's hub. `live_source` in an event (e.g.
    `extra={"live_source": "run"}`) names its source there."""
    named = event.pop("live_source", None)
    from core.live_events import HUB

    fields = {k: v for k, v in event.items() if k not in LIVE_SKIPPED}
    HUB.publish(
        str(event.get("event", "")),
        source=named if named in ("run", "telemetry", "audit", "billing") else "log",
        level=event.get("level", name),
        tenant_id=event.get("tenant_id") if isinstance(event.get("tenant_id"), str) else None,
        fields=fields,
    )
    return event


def _drop_terminal_extras(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    for key in TERMINAL_EXTRAS:
        event.pop(key, None)
    return event


def _lift_temporal_context(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """Temporal's logger adapters nest their context; flat `workflow_id`, `run_id`, `activity` keys are
    what the rest of the logs use."""
    for key in TEMPORAL_EXTRAS:
        details = event.pop(key, None)
        if not isinstance(details, dict):
            continue
        workflow_id = details.get("workflow_id")
        event.setdefault("workflow_id", workflow_id)
        event.setdefault("workflow_type", details.get("workflow_type"))
        if details.get("activity_type"):
            event.setdefault("activity", details["activity_type"])
            event.setdefault("attempt", details.get("attempt"))
        if isinstance(workflow_id, str) and workflow_id.startswith(RUN_WORKFLOW_PREFIX):
            event.setdefault("run_id", workflow_id.removeprefix(RUN_WORKFLOW_PREFIX))
    return event
