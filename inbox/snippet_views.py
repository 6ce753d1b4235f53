"""The snippet library under Settings: owners and admins write, agents read and preview.

Every page shows a snippet rendered against a sample order (the newest order of a store the
person serves, else a made-up one) so that the author sees what a buyer would receive, and a
mistake in a snippet is shown in plain words next to the text the author wrote, never lost.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from marketplaces.selectors import allowed_store_ids
from orders.models import Order
from tenants.decorators import tenant_required
from tenants.models import Membership, Role, Tenant

from . import services, snippets
from .models import Customer, Snippet
from .snippets import PLACEHOLDERS, SnippetError

# What a preview shows when the organisation has no order yet: plain strings, like the real ones.
SAMPLE_CONTEXT: snippets.Context = {
    "order": {
        "id": "576469260282336209",
        "status": "Awaiting shipment",
        "items": "2 × Short Boat Invisible Socks, Ceramic Mug",  # noqa: RUF001 (as rendered)
        "total": "$37.50",
        "date": "Sep 12, 2026",
        "carrier": "USPS",
        "tracking_number": "9400111899223100001234",
        "delivery_option": "Standard shipping",
    },
    "buyer": {"name": "TikTok Shop Customer 853d82…"},
    "store": {"name": "Your store"},
    "product": {
        "name": "Silk Sleep Mask",
        "price": "$12.99",
        "link": "https://shop.tiktok.com/view/product/1729592969712207008",
        "sku": "SILK-PINK, SILK-NAVY",
    },
    "coupon": {
        "name": "Chat thank-you 10% off",
        "offer": "10% off (up to $20.00) on orders over $25.00",
        "code": "THANKS10",
        "claim_by": "Oct 31, 2026",
    },
}
# Previews show a sample product and coupon: a snippet is written before any is picked.
_PICKED_SAMPLES = ("product", "coupon")


class SnippetForm(forms.Form):
    """The fields; the rules (shortcut unique, body placeholders) are the service's, shown here."""

    title = forms.CharField(max_length=120, strip=True)
    shortcut = forms.CharField(
        max_length=40,
        strip=True,
        help_text="Typed after / or # in the composer, e.g. where-is-my-order.",
    )
    body = forms.CharField(
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        label="Text",
        help_text="The reply's text. Placeholders such as {{ order.id }} are filled in from the "
        "order picked in the composer.",
    )

    def add_service_errors(self, exc: services.SnippetInvalidError) -> None:
        for field, field_errors in exc.errors.items():
            for error in field_errors:
                self.add_error(field if field in self.fields else None, error)


class PreviewForm(forms.Form):
    body = forms.CharField(strip=False, required=False)


# --- Helpers -------------------------------------------------------------------------------------


def _snippet_get(*, tenant: Tenant, public_id: uuid.UUID) -> Snippet:
    """A snippet of this organisation, or 404 (another tenant's snippet does not exist here)."""
    try:
        return Snippet.objects.get(tenant=tenant, public_id=public_id)
    except Snippet.DoesNotExist:
        raise Http404("No such snippet.") from None


def _sample(membership: Membership) -> tuple[snippets.Context, Order | None]:
    """Values for previews: the newest order this person may see, else the made-up sample."""
    tenant = membership.tenant
    orders = Order.objects.filter(tenant=tenant).select_related("store")
    stores = allowed_store_ids(membership)
    if stores is not None:
        orders = orders.filter(store_id__in=stores)
    order = orders.prefetch_related("lines").order_by("-placed_at", "-pk").first()
    agent = membership.user
    if order is None:
        context = {key: dict(values) for key, values in SAMPLE_CONTEXT.items()}
        context.update(snippets.snippet_context(tenant=tenant, agent=agent))
        return context, None
    customer = Customer.objects.filter(
        store=order.store, buyer_user_id=order.buyer_user_id
    ).first() or Customer(tenant=tenant, store=order.store, buyer_user_id=order.buyer_user_id)
    context = snippets.snippet_context(tenant=tenant, order=order, customer=customer, agent=agent)
    context.update({key: dict(SAMPLE_CONTEXT[key]) for key in _PICKED_SAMPLES})
    return context, order


def _preview(body: str, context: snippets.Context) -> dict[str, str]:
    try:
        return {"preview": snippets.render(snippets.validate_body(body), context)}
    except SnippetError as exc:
        return {"preview_error": str(exc)}


def _page(
    request: HttpRequest,
    template: str,
    *,
    form: SnippetForm | None = None,
    snippet: Snippet | None = None,
    status: int = 200,
) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    sample, sample_order = _sample(membership)
    body = ""
    if form is not None:
        body = form.data.get("body", "") if form.is_bound else form.initial.get("body", "")
    elif snippet is not None:
        body = snippet.body
    context: dict[str, Any] = {
        "form": form,
        "snippet": snippet,
        "can_edit": membership.has_role(Role.ADMIN),
        "placeholders": [(f"{{{{ {name} }}}}", words) for name, words in PLACEHOLDERS.items()],
        "sample_order": sample_order,
        **(_preview(body, sample) if body else {}),
    }
    return render(request, template, context, status=status)


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "403.html",
        {"reason": "Only owners and admins can change snippets. You can use them in replies."},
        status=403,
    )


# --- Views ---------------------------------------------------------------------------------------


@tenant_required
@require_GET
def snippet_list(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    library = Snippet.objects.filter(tenant=membership.tenant).order_by("title", "pk")
    shortcuts = set(library.values_list("shortcut", flat=True))
    missing_starters = [s for s in snippets.STARTER_SNIPPETS if s["shortcut"] not in shortcuts]
    context = {
        "snippets": library,
        "can_edit": membership.has_role(Role.ADMIN),
        "missing_starters": missing_starters,
    }
    return render(request, "inbox/snippets/snippet_list.html", context)


@tenant_required(role=Role.ADMIN)
def snippet_create(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    form = SnippetForm(request.POST or None)
    if request.method == "POST" and "preview" not in request.POST and form.is_valid():
        try:
            snippet = services.snippet_create(membership=membership, **form.cleaned_data)
        except services.SnippetInvalidError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Snippet “{snippet.title}” saved.")
            return redirect("snippet_list")
    status = 400 if form.is_bound and form.errors else 200
    return _page(request, "inbox/snippets/snippet_form.html", form=form, status=status)


@tenant_required
def snippet_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    snippet = _snippet_get(tenant=membership.tenant, public_id=public_id)
    if not membership.has_role(Role.ADMIN):
        if request.method == "POST":
            return _forbidden(request)
        return _page(request, "inbox/snippets/snippet_detail.html", snippet=snippet)
    initial = {"title": snippet.title, "shortcut": snippet.shortcut, "body": snippet.body}
    form = SnippetForm(request.POST or None, initial=initial)
    if request.method == "POST" and "preview" not in request.POST and form.is_valid():
        try:
            services.snippet_update(membership=membership, snippet=snippet, **form.cleaned_data)
        except services.SnippetInvalidError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Snippet “{snippet.title}” saved.")
            return redirect("snippet_list")
    status = 400 if form.is_bound and form.errors else 200
    return _page(
        request, "inbox/snippets/snippet_form.html", form=form, snippet=snippet, status=status
    )


@require_POST
@tenant_required(role=Role.ADMIN)
def snippet_delete(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    snippet = _snippet_get(tenant=membership.tenant, public_id=public_id)
    title = snippet.title
    services.snippet_delete(membership=membership, snippet=snippet)
    messages.success(request, f"Snippet “{title}” deleted.")
    return redirect("snippet_list")


@require_POST
@tenant_required(role=Role.ADMIN)
def snippet_starters_add(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    added = snippets.starter_snippets_seed(tenant=membership.tenant)
    messages.success(
        request,
        f"Added {added} starter snippet{'s' if added != 1 else ''}."
        if added
        else "The starter snippets are all there already.",
    )
    return redirect("snippet_list")


@tenant_required
@require_POST
def snippet_preview(request: HttpRequest) -> HttpResponse:
    """The live preview (HTMX, as the author types): the rendered text or the mistake."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    form = PreviewForm(request.POST)
    body = form.data.get("body", "") if form.is_valid() else ""
    sample, sample_order = _sample(membership)
    context = {"sample_order": sample_order, **(_preview(body, sample) if body.strip() else {})}
    return render(request, "inbox/snippets/_preview.html", context)
