from django.contrib import admin
from django.urls import include, path

from tenants.forms import AdminSignInForm
from tenants.signin_throttle import throttled_status

from .views import healthz

handler404 = "config.views.not_found"
handler500 = "config.views.server_error"

admin.site.site_header = "Sellerdesk administration"

# The admin signs in through tenants.signin_throttle like everyone (429 while paused).
admin.site.login_form = AdminSignInForm

urlpatterns = [
    path("admin/login/", throttled_status(admin.site.login)),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("triage.urls")),  # /mailbox/<id>/triage/, /mailbox/<id>/suggestions/
    path("mailbox/", include("inbox.urls")),
    path("", include("inbox.snippet_urls")),  # /settings/snippets/…, /orders/<id>/message-buyer/
    path("", include("sla.urls")),  # /settings/sla/…
    path("orders/", include("orders.urls")),
    path("", include("orders.catalog_urls")),  # /products/, /coupons/
    path("stores/", include("marketplaces.urls")),
    path("webhooks/", include("marketplaces.webhook_urls")),
    path("api/v1/", include("api.urls")),
    path("", include("api.web_urls")),  # /settings/api-keys/
    path("", include("integrations.urls")),  # /settings/webhooks/
    path("", include("escalations.urls")),  # /escalations/…, /settings/escalations/
    path("", include("email_channel.urls")),  # /settings/channels/…
    path("", include("tenants.urls")),
]
