"""Help in the web app: the knowledge browser (/app/help: search, browse by source; /app/help/knowledge/<id>: one
passage as escaped text), the help panel's question (answered by the help chat with the page's context and its
citations, or the knowledge base's passages when the AI cannot answer) and the tenant's AI credits."""

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep
from api.web.ai_deps import PageBrain
from api.web.ai_texts import fallback_text
from api.web.deps import PageCaller
from api.web.pages import page_locale, render
from api.web.passage_text import passage_html, plain_excerpt
from core.errors import ApiError
from domain import ai_allowance, ai_help, knowledge
from schemas.brain import MAX_PROMPT_CHARS, ChatContext, ChatCreate
from schemas.i18n import tr

router = APIRouter(prefix="/app/help", include_in_schema=False)
RESULTS = 20
KnowledgeSource = Literal["readme", "reference", "template"]
SOURCES: tuple[KnowledgeSource, ...] = ("readme", "reference", "template")
SOURCE_NAMES = {"readme": tr("Product guide"), "reference": tr("Definition language"), "template": tr("Templates")}
ID_CHARS = 64
CREDITS_CHANGED = "levqor-credits"


@router.get("")
async def help_page(
    request: Request, caller: PageCaller, engine: EngineDep, q: str = "", source: str = ""
) -> HTMLResponse:
    """The knowledge browser: passages matching `q` (of one source, if chosen), or a source's passages in order."""
    query = q.strip()[:MAX_PROMPT_CHARS]
    chosen = source if source in SOURCES else None
    if query:
        found = await run_in_threadpool(knowledge.search_knowledge, engine, query, RESULTS)
        passages = [p.model_copy(update={"body": plain_excerpt(p.body)}) for p in found if chosen in (None, p.source)]
    else:  # a source's passages in order; the product guide's when none is chosen
        chosen = chosen or "readme"
        passages = [
            p.model_copy(update={"body": plain_excerpt(p.body)})
            for p in await run_in_threadpool(knowledge.list_knowledge, engine, chosen)
        ]
    return render(
        request, "ai/help.html", title=tr("Help"), section="help", q=query, source=chosen, passages=passages,
        picked=source if source in SOURCES else None,
        sources=SOURCES, source_names=SOURCE_NAMES,
    )  # fmt: skip


@router.get("/knowledge/{passage_id}")
async def passage_page(request: Request, passage_id: str, caller: PageCaller, engine: EngineDep) -> HTMLResponse:
    """One passage of the knowledge base, its text escaped (a README's HTML shows as text)."""
    if len(passage_id) > 120:
        raise ApiError(404, "passage_not_found", tr("No passage with this id"), field="passage_id")
    passage = await run_in_threadpool(knowledge.knowledge_passage, engine, passage_id)
    return render(
        request, "ai/passage.html", title=passage.title, section="help", passage=passage,
        body=passage_html(passage.body), source_names=SOURCE_NAMES,
    )  # fmt: skip


@router.post("/ask")
async def ask(
    request: Request,
    brain: PageBrain,
    question: Annotated[str, Form(min_length=1, max_length=MAX_PROMPT_CHARS)],
    page: Annotated[str, Form(max_length=200)] = "",
    workflow_id: Annotated[str, Form(max_length=ID_CHARS)] = "",
    run_id: Annotated[str, Form(max_length=ID_CHARS)] = "",
) -> HTMLResponse:
    """The help panel's question, answered with the page's context (a fragment for the panel)."""
    if not question.strip():
        return render(request, "ai/_answer.html", status=422, error=tr("Write a question first."))
    context = ChatContext(page=page or None, workflow_id=workflow_id or None, run_id=run_id or None)
    body = ChatCreate(question=question.strip(), context=context, language=page_locale(request))
    answer = await ai_help.answer_question(brain, body, page_locale(request))
    citations = [c.model_copy(update={"excerpt": plain_excerpt(c.excerpt)}) for c in answer.citations]
    response = render(
        request, "ai/_answer.html", answer=answer.model_copy(update={"citations": citations}), question=body.question,
        fallback=fallback_text(answer.fallback_reason),
    )  # fmt: skip
    response.headers["HX-Trigger"] = CREDITS_CHANGED  # the panel's footer reads the credits again
    return response


@router.get("/credits")
async def credits(request: Request, brain: PageBrain) -> HTMLResponse:
    """The tenant's AI credits today and this month against its plan's caps (the help panel's footer)."""
    status = await run_in_threadpool(ai_allowance.ai_credit_status, brain.engine, brain.tenant_id, brain.plan)
    return render(request, "ai/_credits.html", credits=status)
