"""/api/v1/reports/<name>/: each report's table as JSON, the rows its CSV export holds.

Read-only, for any key of the organisation; a key limited to some stores sees the figures of
those stores only (its `store` filter can name no other: 404). The filters are the page's:
`store`, `agent`, `from`, `to`."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.views import APIView

from .figures import REPORTS, ReportFilterError, report
from .params import agent_names, report_filters


class ReportSerializer(serializers.Serializer):
    report = serializers.ChoiceField(choices=sorted(REPORTS))
    title = serializers.CharField()
    date_from = serializers.DateField(help_text="First day, in the organisation's time zone.")
    date_to = serializers.DateField()
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the rollups were last computed (the backlog is live)."
    )
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.DictField(), help_text="One object per row, keyed by `columns`."
    )


@extend_schema(
    tags=["reports"],
    parameters=[
        OpenApiParameter("name", str, OpenApiParameter.PATH, enum=sorted(REPORTS)),
        OpenApiParameter("store", OpenApiTypes.UUID, description="A store's id."),
        OpenApiParameter("agent", OpenApiTypes.UUID, description="A member's user id."),
        OpenApiParameter(
            "from", OpenApiTypes.DATE, description="First day (default: 30 days before `to`)."
        ),
        OpenApiParameter(
            "to", OpenApiTypes.DATE, description="Last day (default: today); two years at most."
        ),
    ],
    responses=ReportSerializer,
    description=(
        "A report's figures from the daily rollups: response-rate (per store and day, with the "
        "market's target), first-response (histogram), attainment (team SLA per agent and "
        "week), volume (buyer messages by weekday and hour), backlog (now, capped at 1,000 "
        "like the mailbox's counts), handle-time (median per store), intents (buyer messages "
        "per triage intent, every intent listed, with its share of those labelled)."
    ),
)
class ReportView(APIView):
    def get(self, request: Request, name: str) -> Response:
        if name not in REPORTS:
            raise Http404("No such report.")
        try:
            filters = report_filters(
                tenant=self.tenant, membership=self.member, params=request.query_params
            )
        except ReportFilterError as error:
            raise exceptions.ValidationError(error.errors) from error
        built = report(
            tenant=self.tenant,
            membership=self.member,
            filters=filters,
            agents=agent_names(self.tenant),
        )
        table = built.tables[name]
        body: dict[str, Any] = {
            "report": name,
            "title": table.title,
            "date_from": filters.date_from.isoformat(),
            "date_to": filters.date_to.isoformat(),
            "computed_at": (
                built.computed_at.isoformat().replace("+00:00", "Z") if built.computed_at else None
            ),
            "columns": table.columns,
            "rows": table.as_dicts(),
        }
        return Response(body)
