"""Settings → Service levels and /reports/, mounted at the site root (config/urls.py)."""

from django.urls import path

from . import views
from .reports import views as report_views

urlpatterns = [
    path("reports/", report_views.reports, name="reports"),
    path("reports/<slug:name>.csv", report_views.report_csv, name="report_csv"),
    path("settings/sla/", views.sla_settings, name="sla_settings"),
    path("settings/sla/policies/<uuid:public_id>/", views.policy_edit, name="sla_policy_edit"),
    path(
        "settings/sla/policies/<uuid:public_id>/delete/",
        views.policy_delete,
        name="sla_policy_delete",
    ),
    path("settings/sla/stores/<uuid:public_id>/", views.store_clock, name="sla_store_clock"),
    path(
        "settings/sla/stores/<uuid:public_id>/holiday/",
        views.store_holiday,
        name="sla_store_holiday",
    ),
]
