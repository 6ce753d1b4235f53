from django.urls import path

from . import views

urlpatterns = [
    path("escalations/", views.escalation_list, name="escalation_list"),
    path("escalations/new/", views.escalation_new, name="escalation_new"),
    path("escalations/<uuid:public_id>/", views.escalation_detail, name="escalation_detail"),
    path("escalations/<uuid:public_id>/edit/", views.escalation_edit, name="escalation_edit"),
    path("escalations/<uuid:public_id>/submit/", views.escalation_submit, name="escalation_submit"),
    path("escalations/<uuid:public_id>/status/", views.escalation_status, name="escalation_status"),
    path("escalations/<uuid:public_id>/note/", views.escalation_note, name="escalation_note"),
    path("escalations/<uuid:public_id>/print/", views.escalation_print, name="escalation_print"),
    path(
        "escalations/<uuid:public_id>/files/<uuid:file_id>/",
        views.escalation_file,
        name="escalation_file",
    ),
    path(
        "escalations/<uuid:public_id>/orders.csv",
        views.escalation_orders_csv,
        name="escalation_orders_csv",
    ),
    path("settings/escalations/", views.escalation_settings, name="escalation_settings"),
]
