from django.urls import path

from . import views

urlpatterns = [
    path("", views.store_list, name="store_list"),
    path("connect/", views.store_connect, name="store_connect"),
    # The redirect URL registered with the TikTok Shop app (Partner Center / the sandbox config).
    path("connect/callback/", views.store_connect_callback, name="store_connect_callback"),
    path("access/<str:member_id>/", views.store_access_edit, name="store_access_edit"),
    path("<str:store_id>/progress/", views.store_progress, name="store_progress"),
    path("<str:store_id>/sync/", views.store_sync_now, name="store_sync_now"),
    path("<str:store_id>/reconnect/", views.store_reconnect, name="store_reconnect"),
    path("<str:store_id>/disconnect/", views.store_disconnect, name="store_disconnect"),
]
