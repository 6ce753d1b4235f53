"""Returns and cancellations acted on from the ticket's workbench (orders.aftersale does the work).

Review (a decision pressed) answers the confirmation step into the record's panel; Decide (the
confirmation) answers the thread, whose history shows the outcome, with the workbench redrawn
beside it (the record as the marketplace now has it). A refusal, a request that moved on, or a
missing permission is said in the record's panel and nothing is sent.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from orders import aftersale
from orders.models import AfterSaleActionStatus, AfterSaleKind, Cancellation, Return
from tenants.decorators import tenant_required

from .models import Conversation
from .views import _conversation, _is_htmx, _ticket_context


class ReviewForm(forms.Form):
    decision = forms.CharField(max_length=40)
    status = forms.CharField(max_length=64)


class DecideForm(ReviewForm):
    token = forms.UUIDField()
    reason = forms.CharField(required=False, max_length=128)
    comment = forms.CharField(required=False, max_length=aftersale.COMMENT_MAX_CHARS)


def _record(conversation: Conversation, kind: str, record_id: str) -> aftersale.AfterSaleRecord:
    """A return or cancellation of the ticket's store, or 404."""
    model = {AfterSaleKind.RETURN: Return, AfterSaleKind.CANCELLATION: Cancellation}.get(kind)
    if model is None:
        raise Http404("No such kind of request.")
    record = (
        model.objects.select_related("store")
        .filter(
            tenant_id=conversation.tenant_id,
            store_id=conversation.store_id,
            external_id=record_id,
        )
        .first()
    )
    if record is None:
        raise Http404("No such return or cancellation in this ticket's store.")
    return record


def _problem(
    request: HttpRequest, conversation: Conversation, record_id: str, problem: str, status: int
) -> HttpResponse:
    if not _is_htmx(request):
        flash.error(request, problem)
        return redirect(reverse("ticket_detail", args=[conversation.public_id]))
    return HttpResponse(
        format_html('<p class="form-error" role="alert">{}</p>', problem), status=status
    )


@tenant_required
@require_POST
def ticket_aftersale_review(
    request: HttpRequest, public_id: uuid.UUID, kind: str, record_id: str
) -> HttpResponse:
    conversation = _conversation(request, public_id)
    record = _record(conversation, kind, record_id)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _problem(request, conversation, record_id, "Choose a decision.", 400)
    try:
        review = aftersale.after_sale_review(
            membership=request.membership,  # type: ignore[attr-defined]
            record=record,
            key=form.cleaned_data["decision"],
            seen_status=form.cleaned_data["status"],
        )
    except aftersale.AfterSalePermissionError as error:
        return _problem(request, conversation, record_id, str(error), 403)
    except aftersale.AfterSaleError as error:
        return _problem(request, conversation, record_id, str(error), 409)
    context = {"conversation": conversation, "review": review}
    if _is_htmx(request):
        return render(request, "orders/_aftersale_review.html", context)
    return render(request, "inbox/aftersale_review_page.html", context)


@tenant_required
@require_POST
def ticket_aftersale_decide(
    request: HttpRequest, public_id: uuid.UUID, kind: str, record_id: str
) -> HttpResponse:
    conversation = _conversation(request, public_id)
    record = _record(conversation, kind, record_id)
    form = DecideForm(request.POST)
    if not form.is_valid():
        return _problem(request, conversation, record_id, "Confirm the decision again.", 400)
    data = form.cleaned_data
    try:
        decided = aftersale.after_sale_decide(
            membership=request.membership,  # type: ignore[attr-defined]
            record=record,
            key=data["decision"],
            seen_status=data["status"],
            client_token=data["token"],
            reject_reason=data.get("reason") or "",
            comment=data.get("comment") or "",
            conversation_public_id=conversation.public_id,
        )
    except aftersale.AfterSalePermissionError as error:
        return _problem(request, conversation, record_id, str(error), 403)
    except aftersale.AfterSaleError as error:
        return _problem(request, conversation, record_id, str(error), 409)
    action = decided.action
    if action.status != AfterSaleActionStatus.DONE:
        if action.status == AfterSaleActionStatus.SENDING:
            message = "This decision is being sent; its result shows in the ticket's history."
        else:
            message = action.message
        return _problem(request, conversation, record_id, message, 409)
    if not _is_htmx(request):
        flash.success(request, f"{action.label}: done. {action.outcome}")
        return redirect(reverse("ticket_detail", args=[conversation.public_id]))
    context = _ticket_context(request, conversation)
    return render(request, "inbox/_aftersale_done.html", context)
