from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .models import Role

View = Callable[..., HttpResponse]


def tenant_required(view: View | None = None, *, role: str = Role.AGENT) -> View:
    """Signed in, member of an organisation, and holding at least `role` in it."""

    def decorate(func: View) -> View:
        @login_required
        @wraps(func)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            membership = getattr(request, "membership", None)
            if membership is None:
                return redirect("tenant_create")
            if not membership.has_role(role):
                # Same tenant, too small a role: say so (403). Other tenants' objects are 404s.
                return render(
                    request,
                    "403.html",
                    {"reason": f"This page is for {Role(role).label.lower()}s and above."},
                    status=403,
                )
            return func(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate
