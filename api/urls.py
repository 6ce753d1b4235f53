"""/api/v1/: every app's viewsets, the OpenAPI schema and its docs page.

To add an endpoint: write the viewset in your app's api.py (see api/__init__.py) and register
it here under its plural noun.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from email_channel import api as email_api
from escalations import api as escalations_api
from inbox import api as inbox_api
from inbox import card_api, snippet_api
from integrations import api as integrations_api
from marketplaces import api as marketplaces_api
from orders import api as orders_api
from orders import catalog_api
from sla import api as sla_api
from sla.reports import api as reports_api
from tenants import api as tenants_api
from triage import api as triage_api

router = SimpleRouter(trailing_slash=True)
router.register("stores", marketplaces_api.StoreViewSet, basename="api-store")
router.register("tickets", inbox_api.TicketViewSet, basename="api-ticket")
router.register(
    r"tickets/(?P<ticket_id>[^/]+)/messages", inbox_api.MessageViewSet, basename="api-message"
)
router.register(r"tickets/(?P<ticket_id>[^/]+)/notes", inbox_api.NoteViewSet, basename="api-note")
router.register("orders", orders_api.OrderViewSet, basename="api-order")
router.register("products", catalog_api.ProductViewSet, basename="api-product")
router.register("coupons", catalog_api.CouponViewSet, basename="api-coupon")
router.register("snippets", snippet_api.SnippetViewSet, basename="api-snippet")
router.register("escalations", escalations_api.EscalationViewSet, basename="api-escalation")
router.register("members", tenants_api.MemberViewSet, basename="api-member")
router.register("sla-policies", sla_api.SLAPolicyViewSet, basename="api-sla-policy")
router.register("webhooks", integrations_api.WebhookViewSet, basename="api-webhook")
router.register("email-channels", email_api.EmailChannelViewSet, basename="api-email-channel")
router.register(
    r"webhooks/(?P<webhook_id>[^/]+)/deliveries",
    integrations_api.DeliveryViewSet,
    basename="api-webhook-delivery",
)

# Ticket actions: one POST each (and so one Idempotency-Key each).
ticket_actions = [
    path(
        "email-channels/<str:public_id>/check/",
        email_api.EmailChannelViewSet.as_view({"post": "check"}),
        name="api-email-channel-check",
    ),
    path(
        "email-channels/<str:public_id>/poll/",
        email_api.EmailChannelViewSet.as_view({"post": "poll"}),
        name="api-email-channel-poll",
    ),
    path(
        "tickets/<str:public_id>/status/",
        inbox_api.TicketViewSet.as_view({"post": "set_status"}),
        name="api-ticket-status",
    ),
    path(
        "tickets/<str:public_id>/assign/",
        inbox_api.TicketViewSet.as_view({"post": "assign"}),
        name="api-ticket-assign",
    ),
    path(
        "tickets/<str:public_id>/read/",
        inbox_api.TicketViewSet.as_view({"post": "mark_read"}),
        name="api-ticket-read",
    ),
    path(
        "tickets/<str:ticket_id>/cards/",
        card_api.TicketCardCreate.as_view(),
        name="api-ticket-cards",
    ),
    path(
        "tickets/<str:ticket_id>/triage/",
        triage_api.TicketTriage.as_view(),
        name="api-ticket-triage",
    ),
    path(
        "tickets/<str:ticket_id>/suggestions/",
        triage_api.TicketSuggestions.as_view(),
        name="api-ticket-suggestions",
    ),
    path("triage/classify/", triage_api.Classify.as_view(), name="api-triage-classify"),
    path("triage/models/", triage_api.Models.as_view(), name="api-triage-models"),
]

# Decisions on an order's returns and cancellations: review (what the buyer would get, with the
# marketplace's reject reasons), then decide (once).
after_sale_actions = [
    path(
        f"orders/<str:order_id>/{plural}/<str:record_id>/{step}/",
        view.as_view(),
        name=f"api-order-{plural}-{step}",
    )
    for plural, step, view in (
        ("returns", "review", catalog_api.ReturnReview),
        ("returns", "decide", catalog_api.ReturnDecide),
        ("cancellations", "review", catalog_api.CancellationReview),
        ("cancellations", "decide", catalog_api.CancellationDecide),
    )
]


class SchemaView(SpectacularAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI from drf-spectacular-sidecar's files (no CDN), its start-up script served as a
    file (no inline script) and its styles from our static files (no inline style), so that the
    page passes a strict Content-Security-Policy."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    template_name = "api/swagger_ui.html"
    url_name = "api-schema"


read_actions = [
    # Before the router's orders/<id>/: "lookup" is not an id.
    path(
        "orders/lookup/",
        orders_api.OrderViewSet.as_view({"get": "lookup"}),
        name="api-order-lookup",
    ),
    path(
        "orders/<str:public_id>/tracking/",
        orders_api.OrderViewSet.as_view({"get": "tracking"}),
        name="api-order-tracking",
    ),
    path("reports/<str:name>/", reports_api.ReportView.as_view(), name="api-report"),
    path(
        "snippets/<str:public_id>/render/",
        snippet_api.SnippetViewSet.as_view({"get": "render"}),
        name="api-snippet-render",
    ),
]

order_actions = [
    path(
        "orders/<str:public_id>/tracking/refresh/",
        orders_api.OrderViewSet.as_view({"post": "tracking_refresh"}),
        name="api-order-tracking-refresh",
    ),
]

webhook_actions = [
    path(
        "webhooks/<str:webhook_id>/deliveries/<str:public_id>/resend/",
        integrations_api.DeliveryViewSet.as_view({"post": "resend"}),
        name="api-webhook-delivery-resend",
    ),
]

# Escalation cases: actions on one case, its history and files, and the kinds' fields.
escalation_actions = [
    path(
        "escalation-kinds/",
        escalations_api.EscalationKinds.as_view(),
        name="api-escalation-kinds",
    ),
    path(
        "escalations/<str:public_id>/submit/",
        escalations_api.EscalationViewSet.as_view({"post": "submit"}),
        name="api-escalation-submit",
    ),
    path(
        "escalations/<str:public_id>/status/",
        escalations_api.EscalationViewSet.as_view({"post": "set_status"}),
        name="api-escalation-status",
    ),
    path(
        "escalations/<str:public_id>/history/",
        escalations_api.EscalationHistory.as_view(),
        name="api-escalation-history",
    ),
    path(
        "escalations/<str:public_id>/notes/",
        escalations_api.EscalationNoteCreate.as_view(),
        name="api-escalation-notes",
    ),
    path(
        "escalations/<str:public_id>/files/<str:file_id>/",
        escalations_api.EscalationFile.as_view(),
        name="api-escalation-file",
    ),
]

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", DocsView.as_view(), name="api-docs"),
    *read_actions,
    *order_actions,
    *ticket_actions,
    *after_sale_actions,
    *webhook_actions,
    *escalation_actions,
    *router.urls,
]
