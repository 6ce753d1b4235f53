"""Settings → Service levels (`/settings/sla/`): the team's SLA policies, and each store's TikTok
reply window, time zone and holiday mode. Owners and admins only; another organisation's
policy or store is a 404. A form that cannot be saved answers 400 with the reason next to the
field, the typed values kept, and nothing stored."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from marketplaces.models import Store
from marketplaces.selectors import store_get
from tenants.decorators import tenant_required
from tenants.models import Role

from . import selectors, services
from .calendar import CalendarError
from .forms import DEFAULT_INITIAL, HolidayForm, PolicyForm, StoreClockForm

ADMIN = Role.ADMIN


def _stores(request: HttpRequest) -> Any:
    return Store.objects.filter(tenant=request.tenant)  # type: ignore[attr-defined]


def _page(
    request: HttpRequest,
    *,
    form: PolicyForm | None = None,
    store_forms: dict[int, StoreClockForm] | None = None,
    holiday_forms: dict[int, HolidayForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    clocks = selectors.store_clocks(tenant=tenant)
    store_forms = store_forms or {}
    holiday_forms = holiday_forms or {}
    stores = [
        {
            "clock": clock,
            "form": store_forms.get(clock.store.pk)
            or StoreClockForm(
                initial={
                    "time_zone": clock.time_zone,
                    "reply_window_hours": "" if clock.window_is_market else clock.window_hours,
                },
                prefix=f"store-{clock.store.public_id}",
            ),
            "holiday_form": holiday_forms.get(clock.store.pk)
            or HolidayForm(prefix=f"holiday-{clock.store.public_id}"),
        }
        for clock in clocks
    ]
    return render(
        request,
        "sla/settings.html",
        {
            "active": "sla",
            "policies": list(selectors.policies(tenant=tenant)),
            "form": form or PolicyForm(initial=DEFAULT_INITIAL, stores=_stores(request)),
            "stores": stores,
        },
        status=status,
    )


def _save_policy(request: HttpRequest, form: PolicyForm, policy: Any | None) -> bool:
    """Saves the form through the service; False with the reasons on the form."""
    if not form.is_valid():
        return False
    membership = request.membership  # type: ignore[attr-defined]
    try:
        data = form.policy_input()
        if policy is None:
            services.policy_create(membership=membership, data=data)
        else:
            services.policy_update(membership=membership, policy=policy, data=data)
    except CalendarError as error:
        form.add_error(None, str(error))
        return False
    except services.SLASettingsInvalidError as error:
        form.add_service_errors(error)
        return False
    return True


@tenant_required(role=ADMIN)
@require_http_methods(["GET", "POST"])
def sla_settings(request: HttpRequest) -> HttpResponse:
    """The page (GET) and a new policy (POST)."""
    if request.method == "GET":
        return _page(request)
    form = PolicyForm(request.POST, stores=_stores(request))
    if not _save_policy(request, form, None):
        return _page(request, form=form, status=400)
    messages.success(request, f"Policy “{form.cleaned_data['name']}” saved.")
    return redirect("sla_settings")


@tenant_required(role=ADMIN)
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    policy = selectors.policy_get(tenant=request.tenant, public_id=public_id)  # type: ignore[attr-defined]
    if request.method == "GET":
        form = PolicyForm(initial=PolicyForm.initial_of(policy), stores=_stores(request))
        return render(
            request, "sla/policy_edit.html", {"active": "sla", "policy": policy, "form": form}
        )
    form = PolicyForm(request.POST, stores=_stores(request))
    if not _save_policy(request, form, policy):
        return render(
            request,
            "sla/policy_edit.html",
            {"active": "sla", "policy": policy, "form": form},
            status=400,
        )
    messages.success(request, f"Policy “{form.cleaned_data['name']}” saved.")
    return redirect("sla_settings")


@tenant_required(role=ADMIN)
@require_POST
def policy_delete(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    policy = selectors.policy_get(tenant=request.tenant, public_id=public_id)  # type: ignore[attr-defined]
    services.policy_delete(membership=request.membership, policy=policy)  # type: ignore[attr-defined]
    messages.success(request, f"Policy “{policy.name}” deleted.")
    return redirect("sla_settings")


@tenant_required(role=ADMIN)
@require_POST
def store_clock(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    store = store_get(tenant=request.tenant, public_id=public_id)  # type: ignore[attr-defined]
    form = StoreClockForm(request.POST, prefix=f"store-{store.public_id}")
    if form.is_valid():
        try:
            services.store_clock_settings_update(
                membership=request.membership,  # type: ignore[attr-defined]
                store=store,
                time_zone=form.cleaned_data["time_zone"],
                reply_window_hours=form.cleaned_data["reply_window_hours"],
            )
        except services.SLASettingsInvalidError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"{store.name}: clock settings saved.")
            return redirect("sla_settings")
    return _page(request, store_forms={store.pk: form}, status=400)


@tenant_required(role=ADMIN)
@require_POST
def store_holiday(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    store = store_get(tenant=tenant, public_id=public_id)
    form = HolidayForm(request.POST, prefix=f"holiday-{store.public_id}")
    if form.is_valid():
        zone = selectors.store_zone(store, tenant)
        current = next(
            clock for clock in selectors.store_clocks(tenant=tenant) if clock.store.pk == store.pk
        )
        action = form.cleaned_data["action"]
        now = timezone.now()
        if action == "on":
            starts, ends = now, form.in_zone("holiday_until", zone)
        elif action == "off":
            starts = current.holiday_from if current.on_holiday else None
            ends = now if starts is not None else None
        else:
            starts, ends = form.in_zone("holiday_from", zone), form.in_zone("holiday_until", zone)
        try:
            services.store_holiday_mode_set(
                membership=request.membership,  # type: ignore[attr-defined]
                store=store,
                starts_at=starts,
                ends_at=ends,
            )
        except services.SLASettingsInvalidError as error:
            form.add_service_errors(error)
        else:
            words = {"on": "on", "off": "off", "schedule": "scheduled"}[action]
            messages.success(request, f"{store.name}: holiday mode {words}.")
            return redirect("sla_settings")
    return _page(request, holiday_forms={store.pk: form}, status=400)
