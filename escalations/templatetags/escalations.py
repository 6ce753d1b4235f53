"""What other pages show of escalations: a ticket's cases at the top of its workbench, an order's
cases on its page, one query each. The ticket and the order were access-checked by the page that
shows them, and a case belongs to its ticket's (or order's) store, so whoever sees one sees its
cases."""

from __future__ import annotations

from typing import Any

from django import template

from .. import selectors

register = template.Library()


@register.filter
def escalatable(store: Any) -> bool:
    """Whether cases may be opened about this store (a marketplace shop, not a mailbox)."""
    return selectors.is_escalatable(store)


@register.inclusion_tag("escalations/_ticket_case_list.html", takes_context=True)
def ticket_escalations(context: template.Context, conversation: Any) -> dict[str, Any]:
    request = context["request"]
    cases = selectors.escalations_of_conversation(tenant=request.tenant, conversation=conversation)
    return {"cases": cases, "conversation": conversation}


@register.inclusion_tag("escalations/_order_case_list.html", takes_context=True)
def order_escalations(context: template.Context, order: Any) -> dict[str, Any]:
    request = context["request"]
    cases = selectors.escalations_of_order(tenant=request.tenant, order=order)
    return {"cases": cases, "order": order}
