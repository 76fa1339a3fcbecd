"""What a prompt may carry of a tenant's data: `{{ secrets.NAME }}` stays a name (a rendered placeholder reads
as one too), e-mail addresses are shortened and credential-looking values masked, at any depth. Applied before
facts enter a workflow, so neither its history nor the AI ever holds them."""

import re
from typing import Any

from core.logs import SECRET_KEY, redact_text
from schemas.runs import SECRET_PLACEHOLDER

MASK = "***"
SECRET_TEMPLATE = re.compile(r"(\{\{\s*secrets\.[A-Z][A-Z0-9_]*\s*\}\})")
# What may stand beside a secret's name in a credential-named field without being a credential itself.
AUTH_SCHEMES = frozenset({"", "bearer", "basic", "token", "apikey", "api-key"})


def masked_for_prompt(value: Any, key: str | None = None) -> Any:
    """A copy of `value` fit for a prompt; `key` is the member it is found under (credential-named keys mask
    everything but the secrets' names)."""
    if isinstance(value, str):
        return _masked_text(value, key is not None and bool(SECRET_KEY.search(key.replace("-", "_"))))
    if isinstance(value, dict):
        return {k: masked_for_prompt(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked_for_prompt(item, key) for item in value]
    return value


def _masked_text(text: str, credential: bool) -> str:
    text = SECRET_PLACEHOLDER.sub(lambda found: "{{ secrets." + found.group(2) + " }}", text)
    parts = SECRET_TEMPLATE.split(text)  # odd positions are the secrets' names
    names = parts[1::2]
    if credential:
        rest = "".join(parts[0::2]).strip().lower()
        return text if names and rest in AUTH_SCHEMES else " ".join([MASK, *names])
    return "".join(part if index % 2 else redact_text(part) for index, part in enumerate(parts))
