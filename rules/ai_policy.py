"""The AI call policy as data: which models may be asked and what they cost, how many tokens each purpose may
spend, how large a prompt and an answer may be, and each plan's daily AI credits (its monthly credits are
rules/usage.PLAN_LIMITS). BrainActivities.ask and the `ai` step's activity apply it before anything is sent.

Why these numbers:
- Models: the price list in schemas/usage.py is the allow-list. gpt-4o-mini is the default (1 credit per 1K tokens);
  the larger models cost up to ten times as much, so a tenant chooses them knowingly.
- Tokens per purpose: a draft is a whole definition in JSON (the largest answer); a triage or a suggestion is a
  few fields. A caller may ask for fewer tokens, never more.
- Prompt bound: about 12K tokens of context (a definition, a failed step's error, knowledge passages) is plenty;
  beyond it the longest message is trimmed, so an oversized run input cannot buy a huge call.
- Daily credits: about a tenth of the month's credits, so one bad day (a loop calling the AI) cannot use up the
  month.
"""

from math import ceil

from schemas.brain import BrainPurpose, ChatMessage
from schemas.usage import CREDITS_PER_1K_TOKENS

DEFAULT_MODEL = "gpt-4o-mini"
ALLOWED_MODELS: tuple[str, ...] = tuple(CREDITS_PER_1K_TOKENS)
PURPOSE_MAX_TOKENS: dict[BrainPurpose, int] = {
    "draft": 4_000,
    "diagnose": 2_000,
    "chat": 1_200,
    "onboarding": 2_500,
    "triage": 600,
    "suggest": 800,
}
# The `ai` step's own bound is the definition language's (AiStep.max_tokens).
MAX_PROMPT_CHARS = 48_000
"""The total characters of the messages one call sends."""
MAX_ANSWER_CHARS = 32_000
"""The longest answer kept; a longer free-text answer is cut, a longer structured answer is invalid."""
TRIMMED_MARK = " [...]"
DAILY_AI_CREDITS: dict[str, int | None] = {"free": 10, "starter": 200, "pro": 2_000, "enterprise": None}
"""Per UTC day; None is unlimited."""


def model_allowed(model: str) -> bool:
    return model in CREDITS_PER_1K_TOKENS


def credits_for(model: str, tokens: int) -> int:
    """The credits `tokens` of an allowed model cost, rounded up."""
    return ceil(tokens * CREDITS_PER_1K_TOKENS[model] / 1000)


def max_tokens_for(purpose: BrainPurpose, asked: int | None) -> int:
    """The tokens a call may spend: what the caller asked for, within the purpose's bound."""
    bound = PURPOSE_MAX_TOKENS[purpose]
    return bound if asked is None else max(1, min(asked, bound))


def daily_cap(plan: str) -> int | None:
    """A plan's AI credits per day; an unknown plan gets the free plan's."""
    return DAILY_AI_CREDITS.get(plan, DAILY_AI_CREDITS["free"])


def out_of_credits(used: int, cap: int | None) -> bool:
    return cap is not None and used >= cap


def trimmed(messages: list[ChatMessage], limit: int = MAX_PROMPT_CHARS) -> list[ChatMessage]:
    """The messages within `limit` characters in all: the longest is cut at its end, again until they fit (the
    system instructions and the question, usually short, survive whole)."""
    kept = [message.model_copy() for message in messages]
    while (excess := sum(len(m.content) for m in kept) - limit) > 0:
        longest = max(kept, key=lambda m: len(m.content))
        keep = max(0, len(longest.content) - excess - len(TRIMMED_MARK))
        if keep == 0 and len(longest.content) <= len(TRIMMED_MARK):
            break  # only marks are left: a prompt of very many messages, which callers never send
        longest.content = longest.content[:keep] + TRIMMED_MARK
    return kept
