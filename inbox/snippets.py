"""Order snippets: saved replies whose bodies use whitelisted placeholders, rendered in a sandbox.

The grammar is our own and tiny: `{{ group.field }}` and nothing else. Django's template engine
was not used because an `Engine` always loads the default tags and filters (`{% include %}`,
`{% load %}`, `{% debug %}`, `|slice`...) and renders an unknown variable as an empty string: a
typo would silently send the buyer a blank. Here:
- the only values a snippet can reach are the strings `snippet_context()` builds (a dict of plain
  strings per group, never a model object), so `{{ order.store.tenant.memberships }}` cannot walk
  anywhere: it is an unknown placeholder;
- an unknown placeholder, a stray `{{`/`}}`, or a `{%`/`{#` tag is a `SnippetError` with a message
  for the author, raised when the snippet is saved and again when it is rendered;
- a known placeholder without a value (an order placeholder and no order picked) is a
  `SnippetError` too, never a blank.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import transaction

from orders.models import Coupon, Order, Product
from tenants.models import Membership, Tenant, User

from .models import Conversation, Customer, Snippet

TIMES = "\u00d7"  # the multiplication sign of "2 × Socks"  # noqa: RUF003

# Every placeholder a snippet may use, with the words the library page shows for it.
PLACEHOLDERS: dict[str, str] = {
    "order.id": "Order id",
    "order.status": "Order status, in words",
    "order.items": f'Items, e.g. "2 {TIMES} Socks, Mug"',
    "order.total": "Order total with its currency",
    "order.date": "Date the order was placed",
    "order.carrier": "Shipping carrier",
    "order.tracking_number": "Tracking number",
    "order.delivery_option": "Delivery option",
    "product.name": "Product name (the product picked in the Products tab)",
    "product.price": "Product price with its currency",
    "product.link": "Link to the product on TikTok Shop",
    "product.sku": "The product's seller SKU(s)",
    "coupon.name": "Coupon name (the coupon picked in the Coupons tab)",
    "coupon.offer": 'What the coupon gives, e.g. "$5.00 off on orders over $25.00"',
    "coupon.code": "The coupon's promo code",
    "coupon.claim_by": "Last day the coupon can be claimed",
    "buyer.name": 'The buyer\'s name; "there" while TikTok Shop keeps names private ("Hi there")',
    "store.name": "Store name",
    "agent.first_name": "Your first name",
    "agent.name": "Your full name",
}
GROUP_NEEDS = {
    "order": "This snippet uses order details: pick an order first.",
    "product": "This snippet uses product details: pick a product in the Products tab first.",
    "coupon": "This snippet uses coupon details: pick a coupon in the Coupons tab first.",
    "buyer": "This snippet uses the buyer's name: use it from a ticket.",
    "store": "This snippet uses the store's name: pick an order or use it from a ticket.",
    "agent": "This snippet uses your name, which is not known here.",
}
NOT_AVAILABLE = "not available yet"
# TikTok Shop shows sellers a masked label, not a name ("TikTok Shop Customer 1b0431…"), and the
# mailbox keeps no nickname: a message the buyer reads greets them as "there", never by that label.
BUYER_NAME_FALLBACK = "there"

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")


class SnippetError(Exception):
    """A snippet that cannot be saved or rendered; the message is for the snippet's author."""


@dataclass(frozen=True, slots=True)
class _Token:
    literal: str
    placeholder: str | None


def parse(body: str) -> list[_Token]:
    """Literal text and placeholders, or SnippetError naming the first mistake."""
    tokens: list[_Token] = []
    position = 0
    for match in _PLACEHOLDER.finditer(body):
        _check_literal(body[position : match.start()])
        name = match.group(1).strip()
        if not name:
            raise SnippetError("There is an empty placeholder {{ }}.")
        if not _NAME.match(name):
            raise SnippetError(
                f"{{{{ {name} }}}} is not a placeholder. Placeholders look like "
                "{{ order.id }}: a group, a dot and a field, with no filters or tags."
            )
        if name not in PLACEHOLDERS:
            raise SnippetError(
                f"{{{{ {name} }}}} is not a known placeholder. "
                f"Use one of: {', '.join('{{ ' + known + ' }}' for known in PLACEHOLDERS)}."
            )
        tokens.append(_Token(body[position : match.start()], name))
        position = match.end()
    _check_literal(body[position:])
    tokens.append(_Token(body[position:], None))
    return tokens


def _check_literal(text: str) -> None:
    if "{%" in text or "{#" in text:
        raise SnippetError("Tags like {% … %} and comments {# … #} are not allowed in snippets.")
    if "{{" in text:
        raise SnippetError("A placeholder is opened with {{ but never closed with }}.")
    if "}}" in text:
        raise SnippetError("There is a }} without a matching {{.")


def placeholders_of(body: str) -> list[str]:
    return [token.placeholder for token in parse(body) if token.placeholder]


def validate_body(body: str) -> str:
    """The body to store, or SnippetError (empty, too long, or a placeholder mistake)."""
    from .validation import normalise_text, shortest_text_limit

    clean = normalise_text(body).strip()
    if not clean:
        raise SnippetError("A snippet needs some text.")
    max_chars = shortest_text_limit()
    if len(clean) > max_chars:
        raise SnippetError(
            f"A snippet is limited to {max_chars:,} characters, like a reply; "
            f"this one has {len(clean):,}."
        )
    parse(clean)
    return clean


Context = dict[str, dict[str, str]]


def render(body: str, context: Context) -> str:
    """The snippet's text with its placeholders filled from `context` (plain strings only)."""
    parts: list[str] = []
    for token in parse(body):
        parts.append(token.literal)
        if token.placeholder is None:
            continue
        group, field = token.placeholder.split(".", 1)
        values = context.get(group)
        if values is None:
            raise SnippetError(GROUP_NEEDS[group])
        value = values.get(field)
        if not isinstance(value, str):
            raise SnippetError(f"{{{{ {token.placeholder} }}}} has no value here.")
        parts.append(value)
    return "".join(parts)


# --- The values a snippet can see ----------------------------------------------------------------


def items_text(order: Order) -> str:
    """Items as "2 x Socks, Mug" (with a multiplication sign): the platform sends one line per
    unit, so lines with equal names are counted."""
    counts = Counter(line.product_name or line.sku_name or "Item" for line in order.lines.all())
    return ", ".join(
        f"{count} {TIMES} {name}" if count > 1 else name for name, count in counts.items()
    )


def order_values(order: Order, *, tenant: Tenant) -> dict[str, str]:
    from orders.views import money

    lines = list(order.lines.all())
    carrier = order.shipping_provider or next(
        (line.shipping_provider_name for line in lines if line.shipping_provider_name), ""
    )
    tracking = order.tracking_number or next(
        (line.tracking_number for line in lines if line.tracking_number), ""
    )
    placed = order.placed_at.astimezone(ZoneInfo(tenant.time_zone))
    return {
        "id": order.external_id,
        "status": order.status_label,
        "items": items_text(order),
        "total": money(order.total_amount, order.currency) or NOT_AVAILABLE,
        "date": f"{placed:%b} {placed.day}, {placed:%Y}",
        "carrier": carrier or NOT_AVAILABLE,
        "tracking_number": tracking or NOT_AVAILABLE,
        "delivery_option": order.delivery_option_name or NOT_AVAILABLE,
    }


def product_values(product: Product) -> dict[str, str]:
    from orders.catalog_display import product_link, product_price

    skus = [sku.seller_sku for sku in product.skus.all() if sku.seller_sku]
    return {
        "name": product.title,
        "price": product_price(product) or NOT_AVAILABLE,
        "link": product_link(product),
        "sku": ", ".join(skus) or NOT_AVAILABLE,
    }


def coupon_values(coupon: Coupon, *, tenant: Tenant) -> dict[str, str]:
    from orders.catalog_display import coupon_offer

    claim_by = NOT_AVAILABLE
    if coupon.claim_ends_at is not None:
        ends = coupon.claim_ends_at.astimezone(ZoneInfo(tenant.time_zone))
        claim_by = f"{ends:%b} {ends.day}, {ends:%Y}"
    return {
        "name": coupon.title,
        "offer": coupon_offer(coupon),
        "code": coupon.promo_code or NOT_AVAILABLE,
        "claim_by": claim_by,
    }


def snippet_context(
    *,
    tenant: Tenant,
    order: Order | None = None,
    customer: Customer | None = None,
    store_name: str | None = None,
    agent: User | None = None,
    product: Product | None = None,
    coupon: Coupon | None = None,
) -> Context:
    """Plain strings for the groups that are known; a group left out makes its placeholders fail
    with a clear message. Objects of another tenant are refused."""
    for thing in (order, customer, product, coupon):
        if thing is not None and thing.tenant_id != tenant.pk:
            raise SnippetError(
                "That order, buyer, product or coupon belongs to another organisation."
            )
    context: Context = {}
    if product is not None:
        context["product"] = product_values(product)
    if coupon is not None:
        context["coupon"] = coupon_values(coupon, tenant=tenant)
    if order is not None:
        context["order"] = order_values(order, tenant=tenant)
        store_name = store_name or order.store.name
    if customer is not None:
        context["buyer"] = {"name": BUYER_NAME_FALLBACK}
    if store_name:
        context["store"] = {"name": store_name}
    if agent is not None:
        full = agent.get_full_name().strip()
        context["agent"] = {
            "first_name": agent.first_name or full or "the team",
            "name": full or agent.first_name or "the team",
        }
    return context


# --- The starter library -------------------------------------------------------------------------

STARTER_SNIPPETS: list[dict[str, str]] = [
    {
        "shortcut": "where-is-my-order",
        "title": "Where is my order?",
        "body": (
            "Hi there, thanks for reaching out! Your order {{ order.id }} ({{ order.items }}) is "
            "{{ order.status }}. It ships with {{ order.carrier }}, tracking number "
            "{{ order.tracking_number }}. You can follow it in the TikTok app under Orders. "
            "Best, {{ agent.first_name }} from {{ store.name }}"
        ),
    },
    {
        "shortcut": "return-instructions",
        "title": "Return instructions",
        "body": (
            "Hi there, sorry the item didn't work out. To return order {{ order.id }}, open the "
            'order in the TikTok app, tap "Return/Refund", pick the items and the reason, and '
            "follow the steps shown. Once we receive the return we refund "
            "{{ order.total }} to your original payment method. "
            "{{ agent.first_name }} from {{ store.name }}"
        ),
    },
    {
        "shortcut": "delay-apology",
        "title": "Delay apology",
        "body": (
            "Hi there, we're sorry that order {{ order.id }} is taking longer than expected. "
            "It is currently {{ order.status }} with {{ order.carrier }} "
            "(tracking {{ order.tracking_number }}). We're keeping an eye on it and will update "
            "you as soon as it moves. Thank you for your patience! {{ agent.first_name }}"
        ),
    },
    {
        "shortcut": "thanks",
        "title": "Thanks",
        "body": (
            "Thank you for shopping with {{ store.name }}! If there's anything else we can help "
            "with, just reply here. Have a great day! {{ agent.first_name }}"
        ),
    },
]


def starter_snippets_seed(*, tenant: Tenant) -> int:
    """Adds the starter library to a tenant; snippets with those shortcuts are left as they are.
    Returns how many were added."""
    return snippets_seed(tenant=tenant, starters=STARTER_SNIPPETS)


def snippets_seed(*, tenant: Tenant, starters: Iterable[Mapping[str, str]]) -> int:
    """Adds snippets (shortcut, title, body) to a tenant, leaving any whose shortcut it has
    already as it is; how many were added. Other apps seed their starters through it."""
    added = 0
    with transaction.atomic():
        for starter in starters:
            _, created = Snippet.objects.get_or_create(
                tenant=tenant,
                shortcut=starter["shortcut"],
                defaults={"title": starter["title"], "body": starter["body"]},
            )
            added += int(created)
    return added


def snippet_render(
    *,
    membership: Membership,
    snippet: Snippet,
    conversation: Conversation | None = None,
    order: Order | None = None,
    product: Product | None = None,
    coupon: Coupon | None = None,
) -> str:
    """The composer's "insert snippet": the body rendered for this ticket, order (product,
    coupon) and agent. Raises SnippetError (message for the agent) or PermissionDenied for
    another tenant's or another store's objects."""
    from .services import member_serves_store

    tenant = membership.tenant
    if snippet.tenant_id != tenant.pk:
        raise PermissionDenied("No such snippet.")
    for thing in (conversation, order, product, coupon):
        if thing is not None and not member_serves_store(
            membership, tenant_id=thing.tenant_id, store_id=thing.store_id
        ):
            raise PermissionDenied("You do not serve this store.")
    for thing in (order, product, coupon):
        if (
            conversation is not None
            and thing is not None
            and (thing.store_id != conversation.store_id)
        ):
            raise SnippetError("That order, product or coupon belongs to another store.")
    context = snippet_context(
        tenant=tenant,
        order=order,
        customer=conversation.customer if conversation is not None else None,
        store_name=conversation.store.name if conversation is not None else None,
        agent=membership.user,
        product=product,
        coupon=coupon,
    )
    return render(snippet.body, context)
