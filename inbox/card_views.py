"""The workbench's card buttons and its Products and Coupons tabs, on one ticket.

Every URL starts with the ticket's access helper (404 for a ticket of another tenant or of a store
the agent may not serve), then resolves the picked order, product or coupon with the orders
selectors under the same tenant and membership (404 for anyone else's). The card service then
checks that it belongs to the ticket's store and buyer, so nothing reaches the marketplace that
the buyer should not see.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from orders import selectors as order_selectors
from orders.catalog_display import coupon_row, product_card, product_row
from tenants.decorators import tenant_required

from . import cards
from .models import Conversation
from .selectors import conversations_visible
from .views import _after_action, _conversation, _is_htmx

PRODUCTS_IN_TAB = 20


def csrf_input(request: HttpRequest) -> str:
    """The CSRF field once for a list of forms (what `{% csrf_token %}` prints in each)."""
    return format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
    )


SLOT = re.compile(r"^[a-z0-9-]{1,80}$")


class CardForm(forms.Form):
    type = forms.ChoiceField(choices=[(kind, kind) for kind in cards.CARD_NAMES])
    order = forms.UUIDField(required=False)
    product = forms.UUIDField(required=False)
    coupon = forms.UUIDField(required=False)
    package = forms.CharField(required=False, max_length=64)
    sku = forms.CharField(required=False, max_length=64)
    token = forms.UUIDField(required=False)
    slot = forms.CharField(required=False, max_length=80)


def _request_of(request: HttpRequest, form: CardForm) -> cards.CardRequest:
    tenant = request.tenant  # type: ignore[attr-defined]
    membership = request.membership  # type: ignore[attr-defined]
    data = form.cleaned_data
    found: dict[str, Any] = {}
    if data.get("order"):
        found["order"] = order_selectors.order_get(
            tenant=tenant, public_id=data["order"], membership=membership
        )
    if data.get("product"):
        found["product"] = order_selectors.product_get(
            tenant=tenant, public_id=data["product"], membership=membership
        )
    if data.get("coupon"):
        found["coupon"] = order_selectors.coupon_get(
            tenant=tenant, public_id=data["coupon"], membership=membership
        )
    return cards.CardRequest(
        card_type=data["type"],
        package_id=(data.get("package") or "").strip(),
        sku_id=(data.get("sku") or "").strip(),
        **found,
    )


def _refused(
    request: HttpRequest, conversation: Conversation, slot: str, problem: str
) -> HttpResponse:
    """The reason beside the button that was pressed (HTMX), or above the thread (no JS)."""
    if not _is_htmx(request):
        flash.error(request, problem)
        return redirect(reverse("ticket_detail", args=[conversation.public_id]))
    response = HttpResponse(
        format_html('<p class="form-error" role="alert">{}</p>', problem), status=400
    )
    if SLOT.match(slot):
        response["HX-Retarget"] = f"#{slot}"
        response["HX-Reswap"] = "innerHTML"
    return response


@tenant_required
@require_POST
def ticket_card_send(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """One click on "Send card": the card is queued (shown at once) and sent once."""
    conversation = _conversation(request, public_id)
    form = CardForm(request.POST)
    slot = str(request.POST.get("slot", ""))
    if not form.is_valid():
        return _refused(request, conversation, slot, "Choose a card and what it shows.")
    card_request = _request_of(request, form)
    try:
        cards.card_send(
            membership=request.membership,  # type: ignore[attr-defined]
            conversation=conversation,
            request=card_request,
            client_token=form.cleaned_data.get("token"),
        )
    except cards.CardInvalidError as error:
        return _refused(request, conversation, slot, str(error))
    if not _is_htmx(request):
        flash.success(request, f"{cards.CARD_NAMES[card_request.card_type]} queued to be sent.")
    return _after_action(request, conversation)


def _conversation_brief(request: HttpRequest, public_id: uuid.UUID) -> Conversation:
    """The ticket as the Products tab needs it: the same access rule as `_conversation` (404 for
    another tenant's ticket or a store the agent may not serve), without its buyer and assignee,
    and with no more of it and its store than the tab draws. The tab is asked for as the agent
    types; the full row of four tables cost ~1 ms more (planning the join, 89 columns)."""
    conversation = (
        conversations_visible(
            tenant=request.tenant,  # type: ignore[attr-defined]
            membership=request.membership,  # type: ignore[attr-defined]
        )
        .select_related("store")
        .only(
            "id", "tenant_id", "store_id", "public_id", "number", "store__tenant_id", "store__name"
        )
        .filter(public_id=public_id)
        .first()
    )
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


@tenant_required
@require_GET
def ticket_products(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The Products tab: the store's live products, filtered by name, product id or seller SKU."""
    conversation = _conversation_brief(request, public_id)
    query = " ".join(str(request.GET.get("q", "")).split())[:100]
    products = order_selectors.products_search(
        tenant=request.tenant,  # type: ignore[attr-defined]
        membership=request.membership,  # type: ignore[attr-defined]
        store=conversation.store,
        query=query,
        limit=PRODUCTS_IN_TAB,
    )
    list_url = reverse("product_list")
    send_url = reverse("ticket_card_send", args=[conversation.public_id])
    form_field = csrf_input(request)
    context = {
        "conversation": conversation,
        "query": query,
        "cards": [
            product_card(
                product_row(product, list_url=list_url), send_url=send_url, csrf_input=form_field
            )
            for product in products
        ],
    }
    template = "orders/_products_results.html" if _is_htmx(request) else "orders/products_tab.html"
    return render(request, template, context)


@tenant_required
@require_GET
def ticket_coupons(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The Coupons tab: the store's coupons, those that can be sent first, with why not."""
    conversation = _conversation(request, public_id)
    coupons = order_selectors.coupons_of_tenant(
        tenant=request.tenant,  # type: ignore[attr-defined]
        membership=request.membership,  # type: ignore[attr-defined]
        store=conversation.store,
    )
    context = {
        "conversation": conversation,
        "rows": [coupon_row(coupon) for coupon in coupons],
        "card_token": uuid.uuid4,
        "send_url": reverse("ticket_card_send", args=[conversation.public_id]),
        "csrf_input": csrf_input(request),
    }
    template = "orders/_coupons_results.html" if _is_htmx(request) else "orders/coupons_tab.html"
    return render(request, template, context)
