"""Bodies of the inbound-webhook API: a hook's configuration, its one-time credentials, delivery answers."""

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.api import StrictBody
from schemas.runs import StepError, StepOutcome

MAX_WAIT_S = 30.0


class WebhookConfig(StrictBody):
    signed: bool = False
    wait_for_result: bool = False
    wait_timeout_s: float = Field(default=10.0, gt=0, le=MAX_WAIT_S)


class WebhookPublic(BaseModel):
    """A hook's configuration; its token and signing secret are never answered after creation."""

    definition_id: str
    signed: bool
    wait_for_result: bool
    wait_timeout_s: float
    created_at: datetime


class WebhookCreated(WebhookPublic):
    url: str = Field(description="Shown once; only the token's hash is stored.")
    token: str = Field(description="Shown once; POSTing to `url` is the credential.")
    signing_secret: str | None = Field(
        default=None,
        description="Shown once; sign each body as `X-Levqor-Signature: sha256=<hex HMAC-SHA256>`.",
    )


class HookAccepted(BaseModel):
    run_id: str


class HookFinished(BaseModel):
    """A run that finished while the delivery waited for it."""

    run_id: str
    status: str
    steps: list[StepOutcome]
    error: StepError | None = None
