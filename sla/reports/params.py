"""The report filters from a query string (the page, its CSV exports and the API read the same
names): `store` (a store's id), `agent` (a member's user id), `from` and `to` (YYYY-MM-DD in the
organisation's time zone; the last 30 days by default, at most two years, not reversed). A
store or member that is not the viewer's is a 404, as everywhere."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.utils import timezone

from marketplaces.selectors import store_get, stores_visible_to
from tenants.models import Membership, Tenant
from tenants.selectors import members_of_tenant, membership_of_user

from .figures import ReportFilterError, ReportFilters, filters_checked
from .rollup import tenant_zone


def _date(errors: dict[str, list[str]], name: str, raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors.setdefault(name, []).append(f"“{raw[:40]}” is not a date (write YYYY-MM-DD).")
        return None


def agent_names(tenant: Tenant) -> dict[int, str]:
    """Every member's user pk and name (labels, and the agent filter's choices)."""
    return {
        member.user_id: member.user.get_full_name() or member.user.email
        for member in members_of_tenant(tenant=tenant)
    }


def report_filters(
    *, tenant: Tenant, membership: Membership, params: Mapping[str, str]
) -> ReportFilters:
    """The filters, or ReportFilterError with a message per filter."""
    errors: dict[str, list[str]] = {}
    date_from = _date(errors, "from", params.get("from"))
    date_to = _date(errors, "to", params.get("to"))
    stores = tuple(stores_visible_to(membership))
    store = None
    # Another organisation's store or member (or a store the viewer does not serve): 404.
    if params.get("store"):
        store = store_get(tenant=tenant, public_id=params["store"], membership=membership)
    agent_id = None
    if params.get("agent"):
        agent_id = membership_of_user(tenant=tenant, user_public_id=params["agent"]).user_id
    if errors:
        raise ReportFilterError(errors)
    today = timezone.now().astimezone(tenant_zone(tenant)).date()
    date_from, date_to = filters_checked(date_from=date_from, date_to=date_to, today=today)
    return ReportFilters(
        date_from=date_from,
        date_to=date_to,
        stores=(store,) if store is not None else stores,
        agent_id=agent_id,
        store=store,
    )
