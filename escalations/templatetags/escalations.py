"""The small pieces other pages show: a ticket's cases in its sidebar, an order's cases on its
page. One query each; the ticket and the order were access-checked by the page that shows them."""

from __future__ import annotations

from typing import Any

from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("escalations/_ticket_case_list.html", takes_context=True)
def ticket_escalations(context: template.Context, conversation: Any) -> dict[str, Any]:
    request = context["request"]
    cases = selectors.escalations_of_conversation(
        tenant=request.tenant, membership=request.membership, conversation=conversation
    )
    return {"cases": cases, "conversation": conversation}


@register.inclusion_tag("escalations/_order_case_list.html", takes_context=True)
def order_escalations(context: template.Context, order: Any) -> dict[str, Any]:
    request = context["request"]
    cases = selectors.escalations_of_order(
        tenant=request.tenant, membership=request.membership, order=order
    )
    return {"cases": cases, "order": order}
