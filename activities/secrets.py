"""Tenant secrets for activities: resolved by name at the moment of use, never returned to a workflow."""

from typing import Any

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


def placeholders_in(value: Any) -> set[str]:
    """Names of every `secrets.NAME` placeholder inside a JSON value."""
    if isinstance(value, str):
        return set(SECRET_PLACEHOLDER.findall(value))
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return set().union(*(placeholders_in(item) for item in items)) if items else set()


def fill(value: Any, secrets: dict[str, str]) -> Any:
    """The JSON value with each placeholder replaced by its secret."""
    if isinstance(value, str):
        return SECRET_PLACEHOLDER.sub(lambda match: secrets[match.group(1)], value)
    if isinstance(value, list):
        return [fill(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, secrets) for key, item in value.items()}
    return value


def redact(value: Any, secrets: dict[str, str]) -> Any:
    """The JSON value with every occurrence of a secret's value replaced by `***`."""
    if not secrets:
        return value
    if isinstance(value, str):
        for plaintext in secrets.values():
            value = value.replace(plaintext, REDACTED)
        return value
    if isinstance(value, list):
        return [redact(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: redact(item, secrets) for key, item in value.items()}
    return value
