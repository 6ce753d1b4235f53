"""The open ticket's heartbeat (inbox.presence): POST every few seconds while a ticket is open,
answering who else is on it. Another organisation's ticket (or one of a store the agent does not
serve) is a 404 and nothing is stored; an unknown state is a 400."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from tenants.decorators import tenant_required

from . import presence, selectors


@tenant_required
@require_POST
def ticket_presence(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    # Beaten every few seconds by every open ticket: the access check reads the ticket's ids
    # only, not the ticket with its store, buyer and assignee.
    ticket = (
        selectors.conversations_visible(
            tenant=request.tenant,  # type: ignore[attr-defined]
            membership=request.membership,  # type: ignore[attr-defined]
        )
        .filter(public_id=public_id)
        .values_list("pk", "tenant_id")
        .first()
    )
    if ticket is None:
        raise Http404("No such conversation.")
    try:
        others = presence.heartbeat(
            conversation_id=ticket[0],
            tenant_id=ticket[1],
            user_id=request.user.pk,
            name=request.user.display_name,  # type: ignore[union-attr]
            state=request.POST.get("state", "viewing"),
        )
    except presence.PresenceError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    return render(request, "inbox/_presence.html", {"presence_sentence": presence.sentence(others)})
