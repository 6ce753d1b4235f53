"""Settings → API keys (/settings/api-keys/): owners and admins make keys (shown once), see when
each was last used, and revoke them."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from marketplaces.selectors import stores_of_tenant
from tenants import selectors as tenant_selectors
from tenants.decorators import tenant_required
from tenants.models import Role
from tenants.services import TenancyError

from . import services
from .forms import APIKeyForm


@tenant_required(role=Role.ADMIN)
def api_key_list(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = APIKeyForm(request.POST or None, stores=stores_of_tenant(tenant=tenant))
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.api_key_create(
                tenant=tenant,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                created_by=request.user,  # type: ignore[arg-type]
                stores=form.chosen_stores(),
            )
        except TenancyError as error:
            form.add_error(None, str(error))
        else:
            form = APIKeyForm(stores=stores_of_tenant(tenant=tenant))
    keys = tenant_selectors.api_keys_of_tenant(tenant=tenant).prefetch_related(
        "store_accesses__store"
    )
    response = render(
        request,
        "api/api_keys.html",
        {"form": form, "keys": keys, "issued": issued},
        status=400 if form.errors else 200,
    )
    # The page that shows a new key once must not be kept by any cache.
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@tenant_required(role=Role.ADMIN)
def api_key_revoke(request: HttpRequest, key_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    api_key = tenant_selectors.api_key_get(tenant=tenant, public_id=key_id)
    if services.api_key_revoke(tenant=tenant, api_key=api_key, actor=request.user):  # type: ignore[arg-type]
        messages.success(request, f"API key “{api_key.name}” revoked: it is refused from now on.")
    return redirect("api_key_list")
