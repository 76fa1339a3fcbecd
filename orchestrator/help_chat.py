"""Answers a question about Levqor or the tenant's own workflows, grounded in the knowledge base, with citations;
the search results themselves when the AI cannot.

Citations are the passages the model says it used, among those retrieved (an id it makes up is dropped). When it
cites none, the answer carries no citation rather than one it never relied on."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.help_texts import HelpTextActivities
    from activities.knowledge import KnowledgeActivities
    from orchestrator.brain_calls import ask_brain
    from orchestrator.retries import STORE_TIMEOUT
    from schemas.brain import (
        BrainAnswer,
        BrainAsk,
        ChatFallbackAsk,
        ChatMessage,
        ChatPublic,
        Citation,
        FallbackReason,
        HelpChatInput,
        KnowledgeFound,
        KnowledgeQuery,
        TenantContext,
        TenantContextAsk,
    )

# Short reads a person waits for: a few quick attempts, then the fallback (or the workflow fails and the API says so).
READ_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=200))
RETRIEVED = 5
FALLBACK_CITATIONS = 3
PASSAGE_CHARS = 1_500
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "description": "The answer, in the requested language."},
        "cited": {"type": "array", "items": {"type": "string"}, "description": "Ids of the passages used."},
    },
    "required": ["answer", "cited"],
    "additionalProperties": False,
}
INSTRUCTIONS = (
    "You are the help assistant of Levqor, a workflow-automation platform. Answer the user's question using only "
    "the passages of Levqor's documentation and the facts about the user's own workflows and runs given below. If "
    "they do not hold the answer, say so briefly and suggest where to look. Be concise and practical. Write the "
    "answer in the language with the BCP 47 tag `{language}`. Reply as JSON: `answer` (the answer) and `cited` "
    "(the ids of the passages you used, in square brackets below; an empty list when you used none)."
)


@workflow.defn
class HelpChat:
    @workflow.run
    async def run(self, params: HelpChatInput) -> ChatPublic:
        found = await workflow.execute_activity_method(
            KnowledgeActivities.search_knowledge,
            KnowledgeQuery(query=params.question, limit=RETRIEVED),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=READ_RETRY,
        )
        if params.fallback_reason is not None:
            return await self._fallback(params, found, params.fallback_reason)
        context = await workflow.execute_activity_method(
            KnowledgeActivities.read_tenant_context,
            TenantContextAsk(tenant_id=params.tenant_id, question=params.question, context=params.context),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=READ_RETRY,
        )
        answer = await ask_brain(_ask(params, found, context))
        if not isinstance(answer, BrainAnswer):
            return await self._fallback(params, found, answer)
        data = answer.data or {}
        text, cited = data.get("answer"), data.get("cited")
        if not isinstance(text, str) or not text.strip():
            return await self._fallback(params, found, "invalid_answer")
        return ChatPublic(source="ai", answer=text.strip(), citations=_cited(found, cited), credits=answer.credits)

    async def _fallback(self, params: HelpChatInput, found: KnowledgeFound, reason: FallbackReason) -> ChatPublic:
        citations = [passage.citation for passage in found.passages[:FALLBACK_CITATIONS]]
        text = await workflow.execute_activity_method(
            HelpTextActivities.write_chat_fallback,
            ChatFallbackAsk(reason=reason, language=params.language, citations=citations),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=READ_RETRY,
        )
        return ChatPublic(source="fallback", fallback_reason=reason, answer=text, citations=citations)


def _ask(params: HelpChatInput, found: KnowledgeFound, context: TenantContext) -> BrainAsk:
    parts = [INSTRUCTIONS.format(language=params.language), "Passages:"]
    parts += [f"[{p.citation.passage_id}] {p.citation.title}\n{p.body[:PASSAGE_CHARS]}" for p in found.passages]
    if not found.passages:
        parts.append("(none matched)")
    if context.facts:
        parts += ["The user's own workflows and runs:", *(f"- {fact}" for fact in context.facts)]
    where = params.context.page if params.context is not None else None
    if where:
        parts.append(f"The user asks from the page {where}.")
    return BrainAsk(
        tenant_id=params.tenant_id,
        purpose="chat",
        messages=[
            ChatMessage(role="system", content="\n\n".join(parts)),
            ChatMessage(role="user", content=params.question),
        ],
        response_schema=ANSWER_SCHEMA,
        schema_name="help_answer",
    )


def _cited(found: KnowledgeFound, cited: object) -> list[Citation]:
    """The retrieved passages the answer cites, in the answer's order, each once."""
    by_id = {passage.citation.passage_id: passage.citation for passage in found.passages}
    ids = [item.strip("[] ") for item in cited if isinstance(item, str)] if isinstance(cited, list) else []
    return [by_id[passage_id] for passage_id in dict.fromkeys(ids) if passage_id in by_id]
