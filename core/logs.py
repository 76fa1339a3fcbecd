"""Logging: stdlib records (Temporal's included) and structlog events through one structlog formatter."""

import logging
import sys

import structlog

SECRET_KEYS = frozenset({"authorization", "api_key", "password", "token", "secret", "founder_token"})


def configure_logging(fmt: str = "console", level: str = "INFO", file: str | None = None) -> None:
    """JSON lines when deployed, readable console output locally; safe to call more than once.
    With `file`, every record is also appended there as a JSON line."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact_secrets,
    ]
    renderer = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, logging.FileHandler):
            old.close()
    root.handlers = [handler]
    if file:
        to_file = logging.FileHandler(file, encoding="utf-8")
        to_file.setFormatter(structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, structlog.processors.JSONRenderer()],
        ))
        root.handlers.append(to_file)
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


def _redact_secrets(_logger: object, _name: str, event: dict) -> dict:
    for key in event.keys() & SECRET_KEYS:
        event[key] = "***"
    return event
