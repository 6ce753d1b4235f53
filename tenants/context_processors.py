from __future__ import annotations

from django.http import HttpRequest

from .selectors import memberships_of_user


def tenancy(request: HttpRequest) -> dict[str, object]:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"membership": None, "current_tenant": None, "switchable_memberships": []}
    return {
        "membership": membership,
        "current_tenant": membership.tenant,
        # Read with the membership by the middleware; a queryset (evaluated only by templates
        # that show the switcher) where the request did not pass through it.
        "switchable_memberships": getattr(request, "user_memberships", None)
        or memberships_of_user(user=request.user),
    }
