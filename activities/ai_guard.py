"""The checks every AI call passes in its activity before anything is sent, shared by the Brain's calls and the `ai`
step: the model on the allow-list, the tenant's AI not paused and its daily and monthly credits left, and the
masks (e-mail addresses and the tenant's secret values) its text goes through. Also metering a call's credits."""

import openai
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.secrets import SecretStore, redact
from core.ai_credits import add_ai_credits, credit_status
from rules.ai_masking import mask_emails, maskable
from rules.ai_policy import ALLOWED_MODELS, model_allowed

RETRYABLE_CLIENT_STATUSES = frozenset({408, 409, 429})


class AiGuard:
    def __init__(self, engine: Engine, secrets: SecretStore | None) -> None:
        self._engine, self._secrets = engine, secrets

    def admit(self, tenant_id: str | None, model: str) -> dict[str, str]:
        """The tenant's secrets to mask in what is sent. Raises ApplicationError, non-retryable: AiModelNotAllowed,
        AiCreditsExhausted (a cap reached, or the cost autopilot paused the tenant's AI)."""
        if not model_allowed(model):
            raise ApplicationError(
                f"model {model!r} is not allowed; allowed: {', '.join(ALLOWED_MODELS)}",
                {"attempt": activity.info().attempt},
                type="AiModelNotAllowed",
                non_retryable=True,
            )
        if tenant_id is None:
            return {}
        with Session(self._engine) as session:
            status = credit_status(session, tenant_id)
        if status.exhausted:
            why = "paused" if status.paused else f"used {status.daily_used} today, {status.monthly_used} this month"
            raise ApplicationError(
                f"the tenant's AI credits are used up ({why})",
                {"attempt": activity.info().attempt},
                type="AiCreditsExhausted",
                non_retryable=True,
            )
        return maskable(self._secrets.values_of(tenant_id)) if self._secrets is not None else {}

    def meter(self, tenant_id: str | None, credits: int, *, monthly: bool = True) -> None:
        """Adds a call's credits to the tenant's daily (and monthly) counters."""
        if tenant_id is not None and credits > 0:
            with self._engine.begin() as connection:
                add_ai_credits(connection, tenant_id, credits, monthly=monthly)


def masked(text: str, secrets: dict[str, str]) -> str:
    """The text with every secret value (in its quoted forms too) as `***`, then every e-mail address masked."""
    return mask_emails(redact(text, secrets))


def status_failure(err: openai.APIStatusError) -> ApplicationError:
    """What an error answer of the provider becomes: a 4xx other than 408/409/429 will not heal."""
    status = err.status_code
    message = f"OpenAI API answered {status}"
    if 400 <= status < 500 and status not in RETRYABLE_CLIENT_STATUSES:
        return ai_failure(message, "AiRequestRejected", final=True, status=status)
    return ai_failure(message, "AiTransientError", status=status)


def ai_failure(message: str, type: str, *, final: bool = False, status: int | None = None) -> ApplicationError:
    """The error every failure of an AI call becomes, details[0] = {"attempt", "status"?}; `final`: non-retryable."""
    details: dict[str, int] = {"attempt": activity.info().attempt}
    if status is not None:
        details["status"] = status
    return ApplicationError(message, details, type=type, non_retryable=final)
