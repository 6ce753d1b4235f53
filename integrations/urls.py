from django.urls import path

from . import views

urlpatterns = [
    path("settings/webhooks/", views.webhook_list, name="webhook_list"),
    path("settings/webhooks/<str:webhook_id>/", views.webhook_detail, name="webhook_detail"),
    path("settings/webhooks/<str:webhook_id>/secret/", views.webhook_secret, name="webhook_secret"),
    path("settings/webhooks/<str:webhook_id>/toggle/", views.webhook_toggle, name="webhook_toggle"),
    path("settings/webhooks/<str:webhook_id>/delete/", views.webhook_delete, name="webhook_delete"),
    path(
        "settings/webhooks/<str:webhook_id>/deliveries/<str:delivery_id>/resend/",
        views.delivery_resend,
        name="webhook_delivery_resend",
    ),
]
