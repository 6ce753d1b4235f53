""" "Message the buyer" on the order page: start (or reopen) the TikTok conversation and land in
its ticket. What TikTok refuses (criteria not met, a store to reconnect, no answer) is said
plainly at the top of the order page, in the words of `services.conversation_start_from_order`."""

from __future__ import annotations

import logging
import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from orders import selectors as order_selectors
from tenants.decorators import tenant_required
from tenants.models import Membership

from . import services

logger = logging.getLogger(__name__)


@require_POST
@tenant_required
def conversation_start(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    order = order_selectors.order_get(
        tenant=membership.tenant, public_id=public_id, membership=membership
    )
    try:
        conversation = services.conversation_start_from_order(membership=membership, order=order)
    except services.InboxActionError as exc:
        logger.info("conversation start for order %s refused: %r", order.external_id, exc.__cause__)
        messages.error(request, str(exc))
        return redirect("order_detail", public_id=order.public_id)
    return redirect("ticket_detail", public_id=conversation.public_id)
