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
        # Evaluated only by templates that show the switcher.
        "switchable_memberships": memberships_of_user(user=request.user),
    }
