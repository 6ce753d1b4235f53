"""Snippet suggestions: the organisation's snippets ranked for the buyer's latest message (its
intent first, then shared words), each rendered for the ticket with the linked order (or the
buyer's latest order), ready to insert into the composer. Never sent: the agent inserts,
edits and sends.

A snippet's intent: the starter library's (STARTER_INTENTS, by shortcut); for the team's own
snippets, the classifier's reading of the snippet's title and body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from math import sqrt

from inbox import selectors as inbox_selectors
from inbox.models import Conversation, Snippet
from inbox.snippets import SnippetError, snippet_render, snippets_seed
from tenants.models import Membership, Tenant

from .engine import _classify
from .labels import Intent
from .selectors import latest_buyer_message
from .tenant_models import models_for
from .text import without_accents

SUGGESTIONS = 3
INTENT_WEIGHT = 1.0

# Triage's starter replies: with inbox's four starters the library covers every intent.
STARTER_REPLIES: list[dict[str, str]] = [
    {
        "shortcut": "damaged-item",
        "intent": Intent.DAMAGED_OR_WRONG_ITEM,
        "title": "Damaged, defective or wrong item",
        "body": (
            "Hi there, we're so sorry order {{ order.id }} didn't arrive as it should. Could you "
            "send us a photo of the item and its packaging? Then open the order in the TikTok "
            'app, tap "Return/Refund" and pick the reason: we will approve it right away and '
            "send a replacement or a refund, as you prefer. {{ agent.first_name }} from "
            "{{ store.name }}"
        ),
    },
    {
        "shortcut": "cancel-order",
        "intent": Intent.CANCEL_ORDER,
        "title": "Cancel an order",
        "body": (
            "Hi there, no problem. Order {{ order.id }} is {{ order.status }}: if it has not "
            'shipped yet you can cancel it in the TikTok app (Orders > the order > "Cancel '
            'order"), and we will approve the request as soon as it arrives. If it has already '
            "shipped, you can return it once it is delivered. {{ agent.first_name }}"
        ),
    },
    {
        "shortcut": "change-order",
        "intent": Intent.CHANGE_ORDER,
        "title": "Change an order (address, size, colour)",
        "body": (
            "Hi there, thanks for letting us know. Order {{ order.id }} ({{ order.items }}) is "
            "{{ order.status }}. TikTok Shop does not let us edit an order once it is placed: if "
            "it has not shipped yet, please cancel it and order again with the right address, "
            "size or colour, and we will ship the new one first. {{ agent.first_name }}"
        ),
    },
    {
        "shortcut": "product-question",
        "intent": Intent.PRODUCT_QUESTION,
        "title": "Product question",
        "body": (
            "Hi there, thanks for your interest! Happy to help you choose. Sizes, materials and "
            "what is included are listed on the product page under Details; tell us your usual "
            "size or what you need it for and we'll recommend the right one. "
            "{{ agent.first_name }} from {{ store.name }}"
        ),
    },
    {
        "shortcut": "coupon-help",
        "intent": Intent.DISCOUNT_COUPON,
        "title": "Coupons and discounts",
        "body": (
            "Hi there, thanks for asking! Our current vouchers show on the product page and in "
            "the shop's Coupons section; claim one there before checkout and it applies "
            "automatically when the order meets its minimum. A coupon cannot be added to an "
            "order already placed. {{ agent.first_name }} from {{ store.name }}"
        ),
    },
    {
        "shortcut": "payment-help",
        "intent": Intent.PAYMENT_ISSUE,
        "title": "Payment or invoice",
        "body": (
            "Hi there, sorry for the trouble with the payment for order {{ order.id }} "
            "({{ order.total }}). Payments are handled by TikTok Shop: a duplicate or failed "
            "charge is usually released by your bank within 3-5 business days. For an invoice, "
            'open the order in the TikTok app and tap "Request invoice". '
            "{{ agent.first_name }}"
        ),
    },
    {
        "shortcut": "how-can-we-help",
        "intent": Intent.OTHER,
        "title": "How can we help?",
        "body": (
            "Hi there, thanks for your message! How can we help you today? If it is about an "
            "order, please send us the order number. {{ agent.first_name }} from {{ store.name }}"
        ),
    },
]
# Inbox's starter snippets (inbox.snippets.STARTER_SNIPPETS) and triage's, by shortcut.
STARTER_INTENTS: dict[str, str] = {
    "where-is-my-order": Intent.ORDER_STATUS,
    "delay-apology": Intent.DELIVERY_PROBLEM,
    "return-instructions": Intent.RETURN_REFUND,
    "thanks": Intent.THANKS_CLOSING,
    **{reply["shortcut"]: reply["intent"] for reply in STARTER_REPLIES},
}

_WORD = re.compile(r"[a-z]{3,}")
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}")


def starter_replies_seed(*, tenant: Tenant) -> int:
    """Adds triage's starter replies to an organisation; existing shortcuts are left alone."""
    return snippets_seed(tenant=tenant, starters=STARTER_REPLIES)


def _words(text: str) -> set[str]:
    return set(_WORD.findall(without_accents(_PLACEHOLDER.sub(" ", text)).lower()))


@dataclass(frozen=True)
class Suggestion:
    snippet: Snippet
    intent: str
    score: float
    text: str  # rendered for this ticket ("" when it cannot be: see `error`)
    error: str = ""


def snippet_intents(*, tenant_id: int, snippets: list[Snippet]) -> dict[int, str]:
    """Each snippet's intent: the starter library's, else the classifier's reading."""
    found = {s.pk: STARTER_INTENTS[s.shortcut] for s in snippets if s.shortcut in STARTER_INTENTS}
    others = [s for s in snippets if s.pk not in found]
    if others:
        model = models_for([tenant_id])[tenant_id]
        answers = _classify(model, [f"{s.title}. {_PLACEHOLDER.sub(' ', s.body)}" for s in others])
        found.update({s.pk: answer[0] for s, answer in zip(others, answers, strict=True)})
    return found


def ticket_suggestions(
    *, membership: Membership, conversation: Conversation, limit: int = SUGGESTIONS
) -> list[Suggestion]:
    """The best `limit` snippets for the ticket, rendered with its order; [] without snippets."""
    tenant = membership.tenant
    snippets = list(Snippet.objects.filter(tenant=tenant).order_by("title"))
    if not snippets:
        return []
    message = latest_buyer_message(conversation=conversation)
    wording = _words(message.text) if message is not None else set()
    intent = conversation.intent
    intents = snippet_intents(tenant_id=tenant.pk, snippets=snippets)
    ranked = []
    for snippet in snippets:
        words = _words(f"{snippet.title} {snippet.body}")
        overlap = len(wording & words) / sqrt(len(wording) * len(words)) if wording and words else 0
        score = (INTENT_WEIGHT if intent and intents[snippet.pk] == intent else 0.0) + overlap
        ranked.append((score, snippet))
    ranked.sort(key=lambda pair: (-pair[0], pair[1].title))
    cards = inbox_selectors.ticket_orders(tenant=tenant, conversation=conversation)
    order = cards[0].order if cards else None  # the linked order, else the buyer's latest
    suggestions = []
    for score, snippet in ranked[:limit]:
        if score <= 0:
            break
        try:
            text = snippet_render(
                membership=membership, snippet=snippet, conversation=conversation, order=order
            )
            error = ""
        except SnippetError as problem:
            text, error = "", str(problem)
        suggestions.append(
            Suggestion(
                snippet=snippet,
                intent=intents[snippet.pk],
                score=round(score, 3),
                text=text,
                error=error,
            )
        )
    return suggestions
