"""An order's cases on its page, with Escalate: one query; the order was access-checked by the
page that shows it. (A ticket's cases load with its workbench tab: escalation_ticket_cases.)"""

from __future__ import annotations

from typing import Any

from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("escalations/_order_case_list.html", takes_context=True)
def order_escalations(context: template.Context, order: Any) -> dict[str, Any]:
    request = context["request"]
    cases = selectors.escalations_of_order(
        tenant=request.tenant, membership=request.membership, order=order
    )
    return {"cases": cases, "order": order}
