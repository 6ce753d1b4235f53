"""A banner for owners and admins while a webhook is off after a day of failures."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import disabled_subscriptions


def webhook_alerts(request: HttpRequest) -> dict[str, object]:
    membership = getattr(request, "membership", None)
    if membership is None or not membership.can_manage_members:
        return {"webhook_alerts": ()}
    tenant_id = membership.tenant_id
    # One query, only when a page's template shows the banner.
    return {"webhook_alerts": SimpleLazyObject(lambda: disabled_subscriptions(tenant_id=tenant_id))}
