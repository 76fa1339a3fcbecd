"""An offline evaluation of the fallback drafter (rules/draft_fallback.py, no AI): 30 requests written for the
template library's use cases, in plain words as a customer would put them, each with the step types its
intent needs. The drafter drafts each one as it would when the AI cannot answer, on one plan.

    .venv/bin/python -m bench.draft_eval [--plan free] [--quiet]

Printed: one line per request (valid or not, matched or not, the template chosen, the intended step types the draft
lacks), then the share of drafts that pass the validator on the plan, the share that are valid AND match, and
the share whose template is the one the request was written for.

A draft *matches* when every step type the request's intent needs occurs among the draft's step types (intended ⊆
drafted; extra steps such as the founder approval the free plan requires do not count against it). A draft that is
not valid never matches.
"""

import argparse
import shlex
import sys
from dataclasses import dataclass

from rules.draft_fallback import fallback_draft
from schemas.api import PLANS


@dataclass(frozen=True)
class Case:
    written_for: str
    """The template whose use case the request was written for."""
    prompt: str
    intended: frozenset[str]


def case(written_for: str, prompt: str, *types: str) -> Case:
    return Case(written_for, prompt, frozenset(types))


CASES = [
    case(
        "lead-capture-crm",
        "When someone fills in the contact form on our site, put them in HubSpot and send them a welcome note",
        "http_request",
        "email",
    ),
    case("lead-capture-crm", "Every new prospect from the landing page should become a CRM contact", "http_request"),
    case(
        "invoice-payment-reminder",
        "Chase customers whose invoices are still unpaid after the due date, twice if needed",
        "delay",
        "http_request",
        "condition",
        "email",
    ),
    case("invoice-payment-reminder", "Send a polite reminder e-mail when a bill is overdue", "email"),
    case(
        "refund-approval",
        "Customers ask for their money back: a manager must approve before we refund through the payment API",
        "approval",
        "http_request",
    ),
    case(
        "refund-approval",
        "Approve each refund request and tell the customer once it is paid back",
        "approval",
        "http_request",
        "email",
    ),
    case(
        "uptime-check-alert",
        "Ping our website every few minutes and e-mail the on-call engineer when it is down",
        "http_request",
        "condition",
        "email",
    ),
    case(
        "uptime-check-alert",
        "Let me know when the API health endpoint stops answering 200",
        "http_request",
        "condition",
    ),
    case(
        "weekly-digest-ai",
        "Every Monday summarise last week's numbers with GPT and mail the summary to the team",
        "http_request",
        "ai",
        "email",
    ),
    case("weekly-digest-ai", "A weekly recap of our analytics, written by AI", "ai"),
    case(
        "signup-onboarding-drip",
        "Welcome new sign-ups, send tips two days later and nudge the ones who never log in",
        "email",
        "delay",
        "condition",
    ),
    case("signup-onboarding-drip", "An onboarding e-mail sequence for new users of our app", "email", "delay"),
    case(
        "support-ticket-triage",
        "Read each incoming support ticket with AI and route billing questions to the finance queue",
        "ai",
        "condition",
        "http_request",
    ),
    case("support-ticket-triage", "Sort helpdesk tickets into categories automatically", "ai"),
    case(
        "order-fulfilment-webhook",
        "When Shopify sends us a new order, create the shipment at the warehouse and confirm to the buyer",
        "http_request",
        "email",
    ),
    case("order-fulfilment-webhook", "Forward every new order to our fulfilment partner's API", "http_request"),
    case(
        "marketing-campaign",
        "Run a promotion e-mail campaign to our newsletter segment with copy written by AI",
        "ai",
        "http_request",
    ),
    case("marketing-campaign", "Announce our spring sale to the VIP audience in the CRM", "http_request"),
    case(
        "expense-approval",
        "Employees submit expense claims; big ones need their manager, then finance books them",
        "condition",
        "approval",
        "http_request",
    ),
    case("expense-approval", "Reimburse staff receipts after approval", "approval"),
    case("data-sync-apis", "Copy the records changed since yesterday from our CRM into the ERP", "http_request"),
    case(
        "data-sync-apis",
        "Keep two systems in sync: read changes from one API and import them into the other",
        "http_request",
    ),
    case(
        "failed-payment-follow-up",
        "When a card payment is declined, ask the customer to update their card and flag them if it still fails",
        "email",
        "delay",
        "http_request",
        "condition",
    ),
    case("failed-payment-follow-up", "Recover failed Stripe subscription payments", "email"),
    case(
        "review-request-after-delivery",
        "A week after delivery, ask happy customers to leave us a review on Trustpilot",
        "delay",
        "email",
    ),
    case("review-request-after-delivery", "Collect feedback from buyers once their parcel has been delivered", "email"),
    case("team-chat-notification", "Post to our Slack channel whenever a big deal closes", "http_request"),
    case("team-chat-notification", "Notify the team in Microsoft Teams about new incidents", "http_request"),
    case("scheduled-report-email", "E-mail the owner yesterday's sales figures every morning", "http_request", "email"),
    case(
        "low-stock-reorder",
        "When stock of a product runs low, reorder from the supplier and tell the buyer",
        "http_request",
        "condition",
        "email",
    ),
]


@dataclass(frozen=True)
class Outcome:
    case: Case
    template: str | None
    valid: bool
    missing: frozenset[str]

    @property
    def matched(self) -> bool:
        return self.valid and not self.missing


def evaluate(item: Case, plan: str) -> Outcome:
    draft = fallback_draft(item.prompt, plan, "provider_failed")
    types = {step.get("type") for step in draft.definition["steps"]}
    return Outcome(item, draft.template.id if draft.template else None, draft.report.valid, item.intended - types)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", choices=PLANS, default="free", help="the plan the validator checks (default free)")
    parser.add_argument("--quiet", action="store_true", help="only the totals")
    args = parser.parse_args()
    outcomes = [evaluate(item, args.plan) for item in CASES]
    print(f"$ {shlex.join([sys.executable, '-m', 'bench.draft_eval', *sys.argv[1:]])}")
    if not args.quiet:
        for number, outcome in enumerate(outcomes, 1):
            mark = "match" if outcome.matched else ("valid" if outcome.valid else "INVALID")
            lacks = f"  lacks {','.join(sorted(outcome.missing))}" if outcome.missing else ""
            print(f"{number:3} {mark:7} {outcome.template or '(none)':30} {outcome.case.prompt[:70]}{lacks}")
    total = len(outcomes)
    valid = sum(outcome.valid for outcome in outcomes)
    matched = sum(outcome.matched for outcome in outcomes)
    chosen = sum(outcome.template == outcome.case.written_for for outcome in outcomes)
    print(f"{total} requests, plan {args.plan}, no AI")
    print(f"  valid definition:                 {valid}/{total} = {valid / total:.0%}")
    print(f"  valid and step types match intent: {matched}/{total} = {matched / total:.0%}")
    print(f"  the template written for:          {chosen}/{total} = {chosen / total:.0%}")


if __name__ == "__main__":
    main()
