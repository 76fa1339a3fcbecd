"""Credentials: API keys are random, shown once and stored as a SHA-256 hash."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

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


def mask_email(address: str) -> str:
    """`a***@example.com`: enough to recognise, not enough to leak."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
