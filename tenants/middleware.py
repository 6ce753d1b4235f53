"""Resolves which of the signed-in person's organisations this request acts for."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import Membership

SESSION_KEY = "sellerdesk_tenant"


def resolve_membership(request: HttpRequest) -> Membership | None:
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("tenant").filter(user=user)
    wanted = request.session.get(SESSION_KEY)
    if wanted:
        chosen = memberships.filter(tenant__public_id=wanted).first()
        if chosen is not None:
            return chosen
    # No choice yet, or the chosen organisation removed this person: fall back to the oldest.
    chosen = memberships.order_by("created_at", "id").first()
    if chosen is not None:
        request.session[SESSION_KEY] = str(chosen.tenant.public_id)
    return chosen


class TenantMiddleware:
    """Sets request.membership and request.tenant (None when signed out or without a tenant).

    Views still pass `tenant=request.tenant` to selectors explicitly: nothing reads it implicitly.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        membership = resolve_membership(request)
        request.membership = membership  # type: ignore[attr-defined]
        request.tenant = membership.tenant if membership else None  # type: ignore[attr-defined]
        # Times render in the organisation's zone everywhere: templates, forms and Python code.
        if membership is not None:
            try:
                timezone.activate(zoneinfo.ZoneInfo(membership.tenant.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
