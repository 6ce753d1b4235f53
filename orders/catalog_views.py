"""/products/ and /coupons/: every store's catalog the person serves, searchable.

Sending a product or coupon as a card happens from a ticket (its workbench tabs); these pages are
where an agent looks something up, copies a link or the details, and sees why a coupon cannot be
sent. Another organisation's products and coupons, and stores an agent may not serve, never show.
"""

from __future__ import annotations

from django import forms
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from marketplaces.models import Store
from marketplaces.selectors import stores_visible_to
from tenants.decorators import tenant_required

from . import selectors
from .catalog_display import coupon_row, product_row

PRODUCTS_PER_PAGE = 50
CURSOR_SALT = "orders.products.cursor"


class ProductFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Name, product id or seller SKU")
    store = forms.ModelChoiceField(
        queryset=Store.objects.none(),
        required=False,
        empty_label="All stores",
        to_field_name="public_id",
    )
    all = forms.BooleanField(required=False, label="Include products that are not live")

    def __init__(self, *args: object, membership: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["store"].queryset = stores_visible_to(membership)  # type: ignore[arg-type]


def _cursor_load(token: str) -> tuple[str, int] | None:
    try:
        title, pk = signing.loads(token, salt=CURSOR_SALT)
        return str(title), int(pk)
    except (signing.BadSignature, ValueError, TypeError):
        return None


@tenant_required
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    form = ProductFilterForm(request.GET or None, membership=membership)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    after = _cursor_load(request.GET.get("after", "")) if request.GET.get("after") else None
    products = selectors.products_search(
        tenant=request.tenant,  # type: ignore[attr-defined]
        membership=membership,
        store=data.get("store"),
        query=data.get("q") or "",
        live_only=not data.get("all"),
        after=after,
        limit=PRODUCTS_PER_PAGE + 1,
    )
    more = len(products) > PRODUCTS_PER_PAGE
    products = products[:PRODUCTS_PER_PAGE]
    query = request.GET.copy()
    query.pop("after", None)
    if more:
        last = products[-1]
        query["after"] = signing.dumps([last.title, last.pk], salt=CURSOR_SALT)
    context = {
        "form": form,
        "rows": [product_row(product, list_url=reverse("product_list")) for product in products],
        "next_query": query.urlencode() if more else "",
        "filtered": bool(data.get("q") or data.get("store")),
    }
    return render(request, "orders/product_list.html", context)


@tenant_required
@require_GET
def coupon_list(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    form = ProductFilterForm(request.GET or None, membership=membership)
    store = form.cleaned_data.get("store") if form.is_bound and form.is_valid() else None
    coupons = selectors.coupons_of_tenant(
        tenant=request.tenant,  # type: ignore[attr-defined]
        membership=membership,
        store=store,
    )
    context = {"form": form, "rows": [coupon_row(coupon) for coupon in coupons]}
    return render(request, "orders/coupon_list.html", context)
