"""The ticket bar's triage marker (intent, language, urgency) with its one-click correction,
and the composer's snippet suggestions."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from inbox.selectors import conversation_get
from tenants.decorators import tenant_required

from .forms import CorrectionForm
from .services import ticket_intent_correct
from .suggestions import ticket_suggestions


def _ticket(request: HttpRequest, public_id: uuid.UUID):
    """The ticket, or 404 for one of another organisation or a store the agent does not serve."""
    return conversation_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        membership=request.membership,  # type: ignore[attr-defined]
        public_id=public_id,
    )


@tenant_required
@require_POST
def ticket_triage_correct(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    conversation = _ticket(request, public_id)
    form = CorrectionForm(request.POST)
    error = ""
    if form.is_valid():
        urgent = form.cleaned_data["urgent"]
        result = ticket_intent_correct(
            conversation=conversation,
            membership=request.membership,  # type: ignore[attr-defined]
            intent=form.cleaned_data["intent"] or None,
            urgent=None if urgent == "" else urgent == "1",
        )
        conversation = result.conversation
    else:
        error = " ".join(message for messages in form.errors.values() for message in messages)
    if request.headers.get("HX-Request") != "true":
        return redirect("ticket_detail", public_id=conversation.public_id)
    return render(
        request,
        "triage/_ticket_bar.html",
        {"conversation": conversation, "triage_error": error},
        status=200 if not error else 400,
    )


@tenant_required
@require_GET
def ticket_suggestions_part(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    conversation = _ticket(request, public_id)
    suggestions = ticket_suggestions(
        membership=request.membership,  # type: ignore[attr-defined]
        conversation=conversation,
    )
    return render(
        request,
        "triage/_suggestions.html",
        {"conversation": conversation, "suggestions": suggestions},
    )
