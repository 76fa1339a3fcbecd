"""What never reaches the AI provider: e-mail addresses (and the tenant's secret values, masked by the activity that
resolves them, activities/secrets.redact). Masked text keeps its shape, so the model still reads "an address here"."""

import re

EMAIL_MASK = "[email]"
# Local part and domain as mail actually uses them; deliberately wider than RFC 5322's common subset, since a
# false positive costs a word of context and a miss leaks an address.
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+")
MIN_MASKED_SECRET_CHARS = 4
"""Shorter secret values are not masked: masking every "on" or "1" would garble the prompt and protect nothing."""


def mask_emails(text: str) -> str:
    return EMAIL.sub(EMAIL_MASK, text)


def maskable(secrets: dict[str, str]) -> dict[str, str]:
    """The secret values worth masking."""
    return {name: value for name, value in secrets.items() if len(value) >= MIN_MASKED_SECRET_CHARS}
