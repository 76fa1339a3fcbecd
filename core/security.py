"""Credentials: API keys are random, shown once and stored as a SHA-256 hash."""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

API_KEY_PREFIX = "lvq_"


@dataclass(frozen=True)
class NewApiKey:
    plaintext: str
    prefix: str
    key_hash: str


def new_api_key() -> NewApiKey:
    """A fresh key; 32 random bytes make a fast hash safe (no password stretching needed)."""
    plaintext = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return NewApiKey(plaintext=plaintext, prefix=plaintext[:12], key_hash=hash_api_key(plaintext))


def hash_api_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def seal_token(data: bytes, key: str, context: str) -> str:
    """An opaque, tamper-evident token carrying `data` for this `context` (e.g. a query)."""
    mac = hmac.new(key.encode(), context.encode() + b"\0" + data, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac + data).decode().rstrip("=")


def open_token(token: str, key: str, context: str) -> bytes | None:
    """The data of a token `seal_token` made for this context; None for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    data = raw[16:]
    expected = hmac.new(key.encode(), context.encode() + b"\0" + data, hashlib.sha256).digest()[:16]
    return data if len(raw) > 16 and hmac.compare_digest(raw[:16], expected) else None


def derived_key(master: str, purpose: str) -> bytes:
    """A key for one `purpose` alone, derived from the platform's master key (HMAC-SHA256)."""
    return hmac.new(master.encode(), b"levqor/" + purpose.encode(), hashlib.sha256).digest()


def canonical_json(value: Any) -> bytes:
    """`value` as UTF-8 JSON with sorted keys, no spaces and integral floats written as integers (as JavaScript
    writes them), so equal data gives equal bytes whoever re-serialised it. ValueError for NaN, infinities or
    text that is not valid Unicode; RecursionError for nesting deeper than Python's limit."""
    text = json.dumps(_plain_numbers(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode()


def sign_json(value: Any, key: bytes) -> str:
    """The hex HMAC-SHA256 of `value`'s canonical JSON."""
    return hmac.new(key, canonical_json(value), hashlib.sha256).hexdigest()


def signed_by(value: Any, signature: str, key: bytes) -> bool:
    """Whether `signature` is `sign_json(value, key)`, compared in constant time."""
    return hmac.compare_digest(sign_json(value, key).encode(), signature.encode())


def _plain_numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(item) for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def mask_email(address: str) -> str:
    """`a***@example.com`: enough to recognise, not enough to leak."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


class SecretBox:
    """Encrypts tenant secrets at rest (Fernet: AES-128-CBC with HMAC-SHA256)."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, ciphertext: str) -> str:
        """The plaintext; ValueError when the ciphertext was not sealed with this key."""
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise ValueError("secret was sealed with another key") from None
