"""Tenant secrets for activities: resolved by name at the moment of use, never returned to a workflow."""

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.security import SecretBox
from schemas.runs import SECRET_PLACEHOLDER
from schemas.tables import TenantSecret

REDACTED = "***"


class SecretStore:
    def __init__(self, engine: Engine, box: SecretBox | None) -> None:
        self._engine, self._box = engine, box

    def resolve(self, tenant_id: str, names: set[str]) -> dict[str, str]:
        """The named secrets' values; KeyError naming those the tenant does not have."""
        if self._box is None:
            raise KeyError("secrets are not configured on this platform (LEVQOR_SECRETS_KEY)")
        with Session(self._engine) as session:
            rows = session.exec(
                select(TenantSecret).where(TenantSecret.tenant_id == tenant_id, col(TenantSecret.name).in_(names))
            ).all()
        found = {row.name: self._box.open(row.ciphertext) for row in rows}
        missing = sorted(names - found.keys())
        if missing:
            raise KeyError(f"the tenant has no secret named {', '.join(missing)}")
        return found

    def values_of(self, tenant_id: str) -> dict[str, str]:
        """Every secret of the tenant by name (none when secrets are not configured): what a prompt must not carry."""
        if self._box is None:
            return {}
        with Session(self._engine) as session:
            rows = session.exec(select(TenantSecret).where(TenantSecret.tenant_id == tenant_id)).all()
        return {row.name: self._box.open(row.ciphertext) for row in rows}


def placeholders_in(value: Any, marker: str | None) -> set[str]:
    """Names of every placeholder carrying `marker` inside a JSON value; none without a marker."""
    if marker is None:
        return set()
    if isinstance(value, str):
        return {name for found, name in SECRET_PLACEHOLDER.findall(value) if found == marker}
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return set().union(*(placeholders_in(item, marker) for item in items)) if items else set()


def fill(value: Any, secrets: dict[str, str], marker: str) -> Any:
    """The JSON value with each placeholder carrying `marker` and naming one of `secrets` replaced by its
    value. Any other placeholder-like text (another marker, another name, the unmarked form) is left as it
    is: it came from data, and data never chooses a secret."""
    if isinstance(value, str):
        return SECRET_PLACEHOLDER.sub(lambda match: _value_of(match, secrets, marker), value)
    if isinstance(value, list):
        return [fill(item, secrets, marker) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, secrets, marker) for key, item in value.items()}
    return value


def _value_of(match: "re.Match[str]", secrets: dict[str, str], marker: str) -> str:
    found, name = match.groups()
    return secrets[name] if found == marker and name in secrets else match.group(0)


def redact(value: Any, secrets: dict[str, str]) -> Any:
    """The JSON value with every occurrence of a secret's value replaced by `***`, in the forms error
    messages and echoes quote it in as well: Python's repr of the text or its bytes, JSON, URL-encoding."""
    if not secrets:
        return value
    return _masked(value, _quoted_forms(secrets.values()))


def _masked(value: Any, forms: list[str]) -> Any:
    if isinstance(value, str):
        for form in forms:
            value = value.replace(form, REDACTED)
        return value
    if isinstance(value, list):
        return [_masked(item, forms) for item in value]
    if isinstance(value, dict):
        return {key: _masked(item, forms) for key, item in value.items()}
    return value


def _quoted_forms(plaintexts: Iterable[str]) -> list[str]:
    """Every form of the plaintexts to mask, longest first, so that no part of a longer form survives."""
    forms: set[str] = set()
    for plaintext in plaintexts:
        escaped = {
            repr(plaintext)[1:-1],
            repr(plaintext.encode())[2:-1],
            plaintext.encode("unicode_escape").decode("ascii"),
            json.dumps(plaintext)[1:-1],
        }
        # A repr escapes the quote it is written in, which depends on the text around the secret.
        escaped |= {form.replace(q, "\\" + q) for form in escaped for q in "'\""}
        forms |= escaped | {plaintext, json.dumps(plaintext, ensure_ascii=False)[1:-1]}
        forms |= {quote(plaintext, safe=""), quote_plus(plaintext, safe="")}
    return sorted((form for form in forms if form), key=len, reverse=True)
