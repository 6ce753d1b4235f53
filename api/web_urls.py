from django.urls import path

from . import key_views

urlpatterns = [
    path("settings/api-keys/", key_views.api_key_list, name="api_key_list"),
    path("settings/api-keys/<str:key_id>/revoke/", key_views.api_key_revoke, name="api_key_revoke"),
]
