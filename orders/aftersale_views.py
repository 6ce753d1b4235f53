"""Returns and cancellations acted on from the order page (orders.aftersale does the work).

Without JavaScript the confirmation step is the order page with the step open under its
request; with HTMX it is drawn into the request's panel. A decision answers with the order page
again (Post/Redirect/Get), its outcome said at the top and the request as the marketplace has it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from marketplaces.models import Store
from marketplaces.selectors import stores_visible_to
from tenants.decorators import tenant_required
from tenants.models import Role
from tenants.selectors import membership_get

from . import aftersale, selectors, services
from .forms import InternalNoteForm
from .models import (
    AfterSaleActionStatus,
    AfterSaleGrant,
    AfterSaleKind,
    Cancellation,
    Order,
    Return,
)
from .views import _order_page


def _record(order: Order, kind: str, record_id: str) -> aftersale.AfterSaleRecord:
    model = {AfterSaleKind.RETURN: Return, AfterSaleKind.CANCELLATION: Cancellation}.get(kind)
    if model is None:
        raise Http404("No such kind of request.")
    record = (
        model.objects.select_related("store")
        .filter(
            tenant_id=order.tenant_id,
            store_id=order.store_id,
            order_external_id=order.external_id,
            external_id=record_id,
        )
        .first()
    )
    if record is None:
        raise Http404("No such return or cancellation on this order.")
    return record


def _order(request: HttpRequest, public_id: uuid.UUID) -> Order:
    return selectors.order_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        public_id=public_id,
        membership=request.membership,  # type: ignore[attr-defined]
    )


def _note_form(order: Order) -> InternalNoteForm:
    return InternalNoteForm(
        initial={"note": order.internal_note, "version": services.note_version(order)}
    )


def _problem(
    request: HttpRequest, order: Order, record_id: str, problem: str, status: int
) -> HttpResponse:
    if request.headers.get("HX-Request") == "true":
        return HttpResponse(
            format_html('<p class="form-error" role="alert">{}</p>', problem), status=status
        )
    order = _order(request, order.public_id)  # as it is now (a review refreshes it)
    return _order_page(
        request,
        order,
        note_form=_note_form(order),
        status=status,
        aftersale_problem=problem,
        aftersale_problem_for=record_id,
    )


@tenant_required
@require_POST
def order_aftersale_review(
    request: HttpRequest, public_id: uuid.UUID, kind: str, record_id: str
) -> HttpResponse:
    order = _order(request, public_id)
    record = _record(order, kind, record_id)
    try:
        review = aftersale.after_sale_review(
            membership=request.membership,  # type: ignore[attr-defined]
            record=record,
            key=str(request.POST.get("decision", ""))[:40],
            seen_status=str(request.POST.get("status", ""))[:64],
        )
    except aftersale.AfterSalePermissionError as error:
        return _problem(request, order, record_id, str(error), 403)
    except aftersale.AfterSaleError as error:
        return _problem(request, order, record_id, str(error), 409)
    if request.headers.get("HX-Request") == "true":
        return render(request, "orders/_aftersale_review.html", {"order": order, "review": review})
    order = _order(request, public_id)
    return _order_page(request, order, note_form=_note_form(order), review=review)


@tenant_required
@require_POST
def order_aftersale_decide(
    request: HttpRequest, public_id: uuid.UUID, kind: str, record_id: str
) -> HttpResponse:
    order = _order(request, public_id)
    record = _record(order, kind, record_id)
    try:
        token = uuid.UUID(str(request.POST.get("token", "")))
    except ValueError:
        return _problem(request, order, record_id, "Confirm the decision again.", 400)
    try:
        decided = aftersale.after_sale_decide(
            membership=request.membership,  # type: ignore[attr-defined]
            record=record,
            key=str(request.POST.get("decision", ""))[:40],
            seen_status=str(request.POST.get("status", ""))[:64],
            client_token=token,
            reject_reason=str(request.POST.get("reason", ""))[:128],
            comment=str(request.POST.get("comment", "")),
        )
    except aftersale.AfterSalePermissionError as error:
        return _problem(request, order, record_id, str(error), 403)
    except aftersale.AfterSaleError as error:
        return _problem(request, order, record_id, str(error), 409)
    action = decided.action
    if action.status == AfterSaleActionStatus.DONE:
        messages.success(request, f"{action.label}: done. {action.outcome}")
    elif action.status == AfterSaleActionStatus.SENDING:
        messages.info(request, "This decision is being sent; refresh in a moment.")
    else:
        messages.error(request, action.message)
    url = reverse("order_detail", args=[order.public_id]) + f"#aftersale-{record.external_id}"
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


# --- Who may act on returns (Settings, Members) ------------------------------------------------


class AfterSaleAccessForm(forms.Form):
    stores = forms.MultipleChoiceField(
        label="Stores whose returns and cancellations this agent may approve or reject",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Owners and admins always may. An agent may only for the stores ticked here "
        "(among the stores they serve).",
    )

    def __init__(self, *args: Any, stores: list[Store], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stores_by_id = {str(store.public_id): store for store in stores}
        self.fields["stores"].choices = [
            (public_id, store.name) for public_id, store in self.stores_by_id.items()
        ]

    def chosen_stores(self) -> list[Store]:
        return [self.stores_by_id[public_id] for public_id in self.cleaned_data["stores"]]


@tenant_required(role=Role.ADMIN)
def after_sale_access_edit(request: HttpRequest, member_id: str) -> HttpResponse:
    member = membership_get(tenant=request.tenant, public_id=member_id)  # type: ignore[attr-defined]
    if member.has_role(Role.ADMIN):
        messages.info(
            request, f"{member.user.display_name} may act on every store's returns ({member.role})."
        )
        return redirect("member_list")
    stores = list(stores_visible_to(member))
    granted = [
        str(store_id)
        for store_id in AfterSaleGrant.objects.filter(
            tenant=request.tenant,  # type: ignore[attr-defined]
            membership=member,
        ).values_list("store__public_id", flat=True)
    ]
    data = request.POST if request.method == "POST" else None
    form = AfterSaleAccessForm(data, stores=stores, initial={"stores": granted})
    if request.method == "POST" and form.is_valid():
        aftersale.after_sale_grants_set(
            actor=request.membership,  # type: ignore[attr-defined]
            membership=member,
            stores=form.chosen_stores(),
        )
        messages.success(request, f"Returns access of {member.user.display_name} saved.")
        return redirect("member_list")
    return render(request, "orders/after_sale_access.html", {"member": member, "form": form})
