from django.urls import path

from . import webhooks

urlpatterns = [path("tiktok/", webhooks.tiktok_webhook, name="webhook_tiktok")]
