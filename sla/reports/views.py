"""/reports/ (owners and admins): the figures of the daily rollups as charts drawn here, each
with its CSV export (/reports/<name>.csv, the same filters). Filters that cannot be used answer
400 with the reason beside them and the typed values kept; nothing is stored either way."""

from __future__ import annotations

import csv

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from marketplaces.selectors import stores_visible_to
from tenants.decorators import tenant_required
from tenants.models import Role
from tenants.selectors import members_of_tenant

from . import charts
from .figures import REPORTS, ReportFilterError, report
from .params import agent_names, report_filters


def _build(request: HttpRequest) -> tuple[object | None, dict[str, list[str]]]:
    tenant = request.tenant  # type: ignore[attr-defined]
    membership = request.membership  # type: ignore[attr-defined]
    try:
        filters = report_filters(tenant=tenant, membership=membership, params=request.GET)
    except ReportFilterError as error:
        return None, error.errors
    return (
        report(tenant=tenant, membership=membership, filters=filters, agents=agent_names(tenant)),
        {},
    )


@tenant_required(role=Role.ADMIN)
@require_GET
def reports(request: HttpRequest) -> HttpResponse:
    built, errors = _build(request)
    sections = []
    if built is not None:
        for name, table in built.tables.items():  # type: ignore[attr-defined]
            draw = charts.CHARTS.get(name)
            sections.append({"table": table, "chart": draw(table) if draw else None})
    tenant = request.tenant  # type: ignore[attr-defined]
    # The dates as typed (kept when refused), or the range shown.
    dates = {name: request.GET.get(name, "") for name in ("from", "to")}
    if built is not None:
        dates = {
            "from": built.filters.date_from.isoformat(),  # type: ignore[attr-defined]
            "to": built.filters.date_to.isoformat(),  # type: ignore[attr-defined]
        }
    return render(
        request,
        "sla/reports.html",
        {
            "report": built,
            "sections": sections,
            "errors": errors,
            "query": request.GET.urlencode(),
            "stores": stores_visible_to(request.membership),  # type: ignore[attr-defined]
            "members": members_of_tenant(tenant=tenant),
            "params": request.GET,
            "dates": dates,
        },
        status=400 if errors else 200,
    )


@tenant_required(role=Role.ADMIN)
@require_GET
def report_csv(request: HttpRequest, name: str) -> HttpResponse:
    if name not in REPORTS:
        raise Http404("No such report.")
    built, errors = _build(request)
    if built is None:
        message = "; ".join(m for ms in errors.values() for m in ms)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    table = built.tables[name]  # type: ignore[attr-defined]
    filters = built.filters  # type: ignore[attr-defined]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{filters.date_from}-{filters.date_to}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if value is None else value for value in row])
    return response
