"""The drafter without AI: the template whose keywords, title and description best match the words of a request
(simple stemming, a few synonyms, rarer words weigh more), named after the request, with the validator's report and
what to fill in before it runs (the secrets to set, the example URLs to change, the input a run expects)."""

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

from language.issues import ValidationReport
from language.templates import workflow_templates
from rules.ai_masking import mask_emails
from rules.draft_checks import draft_report
from schemas.brain import FallbackReason, WorkflowTemplate
from schemas.i18n import Text, tr, trn

MAX_NAME_CHARS = 80
STOPWORDS = frozenset(
    "a an and any are as at be by can do every for from get i in into is it its me my need new of on or our please "
    "send so that the their them then this to up us we want when which who will with workflow automation automate "
    "automatically create make build set".split()
)
# Words folded into the library's words: English synonyms, and the most telling words of requests in Spanish,
# Portuguese, French, German and Italian (accents dropped), so that a request in those languages finds its template.
SYNONYMS = {
    "mail": "email", "client": "customer", "bill": "invoice", "notify": "notification", "ping": "uptime",
    "offline": "down", "purchase": "order", "buyer": "customer", "summarize": "summarise", "summary": "summarise",
    "helpdesk": "support", "stock": "inventory", "hire": "employee",
    "factura": "invoice", "fatura": "invoice", "facture": "invoice", "rechnung": "invoice", "fattura": "invoice",
    "recordatorio": "reminder", "recordar": "remind", "lembrete": "reminder", "rappel": "reminder",
    "erinnerung": "reminder", "promemoria": "reminder", "reembolso": "refund", "remboursement": "refund",
    "erstattung": "refund", "rimborso": "refund", "pedido": "order", "commande": "order", "bestellung": "order",
    "ordine": "order", "cliente": "customer", "kunde": "customer", "correo": "email", "courriel": "email",
    "informe": "report", "relatorio": "report", "rapport": "report", "bericht": "report", "rapporto": "report",
    "semanal": "weekly", "hebdomadaire": "weekly", "wochentlich": "weekly", "settimanale": "weekly",
    "ventas": "sales", "vendas": "sales", "ventes": "sales", "vendite": "sales", "soporte": "support",
    "suporte": "support", "carrito": "cart", "carrinho": "cart", "panier": "cart", "warenkorb": "cart",
    "carrello": "cart", "inventario": "inventory", "estoque": "inventory", "lager": "inventory",
    "empleado": "employee", "funcionario": "employee", "employe": "employee", "mitarbeiter": "employee",
    "dipendente": "employee", "gasto": "expense", "despesa": "expense", "depense": "expense", "ausgabe": "expense",
    "spesa": "expense", "campana": "campaign", "campanha": "campaign", "campagne": "campaign",
    "kampagne": "campaign", "campagna": "campaign", "pago": "payment", "pagamento": "payment",
    "paiement": "payment", "zahlung": "payment", "resena": "review", "avaliacao": "review", "avis": "review",
    "bewertung": "review", "recensione": "review", "alerta": "alert", "alerte": "alert", "warnung": "alert",
    "avviso": "alert",
}  # fmt: skip
SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ers", "er", "ed", "es", "s", "ly", "e")
WORD = re.compile(r"[a-z0-9]+")
SECRET_REFERENCE = re.compile(r"secrets\.([A-Z][A-Z0-9_]*)")
EXAMPLE_HOST = re.compile(r"https?://([a-z0-9.-]*example\.(?:com|org))", re.I)
# Where a template's words come from, and what each weighs.
KEYWORD, TITLE, TEXT = 3.0, 2.0, 1.0


@dataclass(frozen=True)
class TemplateDraft:
    template: WorkflowTemplate | None
    """None when no template shares a word with the request (the draft is then a single step to build on)."""
    definition: dict[str, Any]
    report: ValidationReport
    explanation: list[Text]
    """Sentences, rendered in the reader's language by whoever shows them."""


def fallback_draft(prompt: str, plan: str, reason: FallbackReason) -> TemplateDraft:
    """The closest template as a draft named after `prompt`, checked on `plan`, explained."""
    ranked = ranked_templates(prompt)
    template = ranked[0][0] if ranked else None
    name = draft_name(prompt, template)
    if template is None:
        definition: dict[str, Any] = {
            "name": name,
            "description": mask_emails(prompt)[:2000],
            "steps": [{"id": "start", "type": "log", "message": "started"}],
        }
    else:
        definition = {**template.model_copy(deep=True).definition, "name": name}
    report = draft_report(definition, plan)
    return TemplateDraft(template, definition, report, [REASONS[reason], *_guidance(template, definition, report)])


def ranked_templates(prompt: str) -> list[tuple[WorkflowTemplate, float]]:
    """The templates that share words with `prompt`, best first (ties in the library's order)."""
    words = set(stems(prompt))
    phrase = " ".join(stems(prompt))
    rarity = _rarity()
    scored = []
    for template in workflow_templates():
        weights = _weights(template)
        score = sum(weights.get(word, 0.0) * rarity.get(word, 0.0) for word in words)
        score += sum(KEYWORD for keyword in template.keywords if " " in keyword and " ".join(stems(keyword)) in phrase)
        if score > 0:
            scored.append((template, round(score, 3)))
    return sorted(scored, key=lambda pair: -pair[1])


def stems(text: str) -> list[str]:
    """The words of `text` without accents, stop words and common suffixes, synonyms folded together."""
    plain = unicodedata.normalize("NFKD", text.lower().replace("e-mail", "email"))
    plain = "".join(char for char in plain if not unicodedata.combining(char))
    stemmed = (_stem(word) for word in WORD.findall(plain) if word not in STOPWORDS)
    return [_folded().get(word, word) for word in stemmed]


def draft_name(prompt: str, template: WorkflowTemplate | None) -> str:
    """The request's first words as a name (e-mail addresses left out), or the template's title."""
    words = " ".join(mask_emails(prompt).split())
    if len(words) > MAX_NAME_CHARS:
        words = words[:MAX_NAME_CHARS].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"
    name = words[:1].upper() + words[1:]
    return name or (template.title if template else "Draft")


def _stem(word: str) -> str:
    while True:
        suffix = next((s for s in SUFFIXES if word.endswith(s) and len(word) - len(s) >= 3), None)
        if suffix is None:
            return word[:-1] if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou" else word
        word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")


def _weights(template: WorkflowTemplate) -> dict[str, float]:
    weights: dict[str, float] = {}
    sources = [(" ".join(template.keywords), KEYWORD), (template.title, TITLE)]
    for text, weight in [*sources, (f"{template.description} {template.use_case}", TEXT)]:
        for word in stems(text):
            weights[word] = max(weights.get(word, 0.0), weight)
    return weights


@cache
def _folded() -> dict[str, str]:
    return {_stem(word): _stem(meaning) for word, meaning in SYNONYMS.items()}


@cache
def _rarity() -> dict[str, float]:
    """How telling each word is: a word few templates use weighs more than one most of them share."""
    counts: dict[str, int] = {}
    templates = workflow_templates()
    for template in templates:
        for word in _weights(template):
            counts[word] = counts.get(word, 0) + 1
    return {word: math.log(1 + len(templates) / count) for word, count in counts.items()}


def _guidance(template: WorkflowTemplate | None, definition: dict[str, Any], report: ValidationReport) -> list[Text]:
    """What to fill in before the first run, as the draft and its report say."""
    sentences = [
        tr("This draft starts from the template “%(title)s”.", title=template.title)
        if template
        else tr("No template fits this request, so the draft is a single step to build on.")
    ]
    text = str(definition)
    if secrets := sorted(set(SECRET_REFERENCE.findall(text))):
        sentences.append(tr("Set these secrets before the first run: %(names)s.", names=", ".join(secrets)))
    if hosts := sorted(set(EXAMPLE_HOST.findall(text))):
        sentences.append(tr("Change these example addresses to your own services: %(hosts)s.", hosts=", ".join(hosts)))
    schema = definition.get("input_schema") or {}
    if fields := list(schema.get("properties", {})):
        sentences.append(tr("A run expects this input: %(fields)s.", fields=", ".join(fields)))
    if not report.valid:
        count = len(report.errors)
        sentences.append(trn("The validator reports %(num)s error; see `report`.", "The validator reports %(num)s errors; see `report`.", count))  # fmt: skip
    return sentences


REASONS: dict[FallbackReason, Text] = {
    "ai_off": tr("AI features are switched off for now, so this draft comes from the template library."),
    "not_configured": tr("AI is not set up on this platform, so this draft comes from the template library."),
    "credits_exhausted": tr("Your AI credits are used up for now, so this draft comes from the template library."),
    "provider_failed": tr("The AI service did not answer, so this draft comes from the template library."),
    "refused": tr("The AI declined this request, so this draft comes from the template library."),
    "invalid_answer": tr("The AI's drafts did not pass the checks, so this draft comes from the template library."),
}
