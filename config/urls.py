from django.contrib import admin
from django.urls import include, path

from .views import healthz

admin.site.site_header = "Sellerdesk administration"
handler500 = "config.views.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("mailbox/", include("inbox.urls")),
    path("", include("inbox.snippet_urls")),  # /settings/snippets/…, /orders/<id>/message-buyer/
    path("", include("sla.urls")),  # /settings/sla/…
    path("orders/", include("orders.urls")),
    path("stores/", include("marketplaces.urls")),
    path("webhooks/", include("marketplaces.webhook_urls")),
    path("", include("tenants.urls")),
]
