"""Sorting a ticket without the AI: its category, priority and sentiment by keywords (English and the tier-1
languages' most common words), and a suggested reply per category from the catalogs, so a founder always has a
first answer to send in the customer's language."""

import re
from dataclasses import dataclass

from schemas.i18n import Text, tr
from schemas.support import TicketCategory, TicketPriority, TicketSentiment

# Checked in order: the first category with a keyword in the text wins.
CATEGORY_KEYWORDS: dict[TicketCategory, tuple[str, ...]] = {
    "billing": ("invoice", "charge", "charged", "refund", "payment", "billing", "card", "subscription", "price",
                "factura", "cobro", "reembolso", "pago", "fatura", "facture", "paiement", "rechnung", "zahlung",
                "fattura", "pagamento", "請求", "支払", "付款", "发票", "भुगतान"),
    "account": ("password", "sign in", "signin", "log in", "login", "account", "locked", "invite", "invitation",
                "contraseña", "cuenta", "senha", "conta", "compte", "connexion", "konto", "anmelden", "accesso",
                "アカウント", "ログイン", "账户", "登录", "खाता"),
    "bug": ("error", "bug", "broken", "fails", "failed", "failing", "crash", "not working", "doesn't work", "500",
            "exception", "fallo", "falla", "erro", "erreur", "fehler", "errore", "エラー", "错误", "त्रुटि"),
    "feature_request": ("feature", "would be nice", "please add", "could you add", "suggestion", "wish",
                        "funcionalidad", "sugerencia", "fonctionnalité", "funktion", "vorschlag", "funzionalità",
                        "機能", "功能", "सुविधा"),
    "how_to": ("how do i", "how to", "how can i", "where can i", "is it possible", "cómo", "como", "comment",
               "wie", "come posso", "どうやって", "如何", "怎么", "कैसे"),
}  # fmt: skip
URGENT_KEYWORDS = ("urgent", "asap", "immediately", "outage", "down", "production", "critical", "emergency",
                   "urgente", "dringend", "緊急", "紧急", "तत्काल")  # fmt: skip
HIGH_KEYWORDS = ("cannot", "can't", "unable", "blocked", "stuck", "lost", "charged twice", "no puedo",
                 "não consigo", "impossible", "kann nicht", "non riesco", "できません", "无法")  # fmt: skip
LOW_KEYWORDS = ("feature", "suggestion", "would be nice", "when you have time", "no rush", "question")
NEGATIVE_KEYWORDS = ("angry", "frustrated", "terrible", "awful", "unacceptable", "disappointed", "worst",
                     "ridiculous", "cancel", "again", "still", "furious", "molesto", "inaceptable", "frustré",
                     "inacceptable", "ärgerlich", "inakzeptabel", "inaccettabile", "最悪", "失望", "糟糕")  # fmt: skip
POSITIVE_KEYWORDS = ("thanks", "thank you", "love", "great", "awesome", "excellent", "gracias", "obrigado",
                     "merci", "danke", "grazie", "ありがとう", "谢谢", "धन्यवाद")  # fmt: skip

SUGGESTED_REPLIES: dict[TicketCategory, Text] = {
    "billing": tr(
        "Thank you for writing to us about your billing. We are looking at your account's invoices and payments "
        "now and will come back to you with what we find and, if something was wrong, how we will put it right."
    ),
    "account": tr(
        "Thank you for contacting us about your account. You can request a new sign-in link from the sign-in "
        "page at any time; if that does not help, we will check your account and get back to you shortly."
    ),
    "bug": tr(
        "Thank you for reporting this problem. We are investigating it now; if you can, send us the run's id "
        "and the time it happened, and we will tell you as soon as we know the cause and the fix."
    ),
    "feature_request": tr(
        "Thank you for the suggestion. We have passed it on to the people who plan the product and will let "
        "you know if and when it becomes part of Levqor."
    ),
    "how_to": tr(
        "Thank you for your question. The knowledge base in the app explains most of Levqor step by step; we "
        "will also answer you here with the steps for what you want to do."
    ),
    "other": tr("Thank you for contacting Levqor support. We have received your message and will reply soon."),
}


@dataclass(frozen=True)
class KeywordTriage:
    category: TicketCategory
    priority: TicketPriority
    sentiment: TicketSentiment
    suggested_reply: Text


def triage_by_keywords(subject: str, body: str) -> KeywordTriage:
    """The ticket's category, priority and sentiment by its words, and the category's suggested reply."""
    text = f"{subject}\n{body}".lower()
    found = (name for name, words in CATEGORY_KEYWORDS.items() if _mentions(text, words))
    category: TicketCategory = next(found, "other")
    sentiment: TicketSentiment = "neutral"
    if _mentions(text, NEGATIVE_KEYWORDS):
        sentiment = "negative"
    elif _mentions(text, POSITIVE_KEYWORDS):
        sentiment = "positive"
    return KeywordTriage(category, _priority(text, category, sentiment), sentiment, SUGGESTED_REPLIES[category])


def _priority(text: str, category: TicketCategory, sentiment: TicketSentiment) -> TicketPriority:
    if _mentions(text, URGENT_KEYWORDS):
        return "urgent"
    if _mentions(text, HIGH_KEYWORDS) or (sentiment == "negative" and category in ("bug", "billing")):
        return "high"
    if category == "feature_request" or _mentions(text, LOW_KEYWORDS):
        return "low"
    return "normal"


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    """Whether `text` holds one of `words`: whole words for the Latin-script ones, anywhere for the others."""
    for word in words:
        if word.isascii():
            if re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text):
                return True
        elif word in text:
            return True
    return False
