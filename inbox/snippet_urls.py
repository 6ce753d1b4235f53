"""Pages of part C2, mounted at the site root by one line in config/urls.py: the snippet library
under /settings/snippets/ and "Message the buyer" under the order's own URL."""

from django.urls import path

from . import snippet_views, start_views

urlpatterns = [
    path("settings/snippets/", snippet_views.snippet_list, name="snippet_list"),
    path("settings/snippets/new/", snippet_views.snippet_create, name="snippet_create"),
    path("settings/snippets/preview/", snippet_views.snippet_preview, name="snippet_preview"),
    path(
        "settings/snippets/starters/",
        snippet_views.snippet_starters_add,
        name="snippet_starters_add",
    ),
    path("settings/snippets/<uuid:public_id>/", snippet_views.snippet_edit, name="snippet_edit"),
    path(
        "settings/snippets/<uuid:public_id>/delete/",
        snippet_views.snippet_delete,
        name="snippet_delete",
    ),
    path(
        "orders/<uuid:public_id>/message-buyer/",
        start_views.conversation_start,
        name="conversation_start",
    ),
]
