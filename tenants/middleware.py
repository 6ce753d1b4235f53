"""Resolves which of the signed-in person's organisations this request acts for."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import Membership
from .selectors import memberships_of_user

SESSION_KEY = "sellerdesk_tenant"


def resolve_membership(request: HttpRequest) -> Membership | None:
    user = request.user
    if not user.is_authenticated:
        return None
    # All of the person's organisations in one query (a handful): the one this request acts for
    # is among them, and the organisation switcher on every page (tenants.context_processors)
    # draws them without a second query.
    memberships = list(memberships_of_user(user=user))
    request.user_memberships = memberships  # type: ignore[attr-defined]
    wanted = request.session.get(SESSION_KEY)
    if wanted:
        for membership in memberships:
            if str(membership.tenant.public_id) == wanted:
                return membership
    # No choice yet, or the chosen organisation removed this person: fall back to the oldest.
    chosen = min(memberships, key=lambda m: (m.created_at, m.pk), default=None)
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
