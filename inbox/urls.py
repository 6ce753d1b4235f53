from django.urls import path

from . import views

urlpatterns = [
    path("", views.mailbox, name="mailbox"),
    path("poll/", views.list_poll, name="mailbox_poll"),
    path("<uuid:public_id>/", views.ticket_detail, name="ticket_detail"),
    path("<uuid:public_id>/poll/", views.ticket_poll, name="ticket_poll"),
    path("<uuid:public_id>/reply/", views.ticket_reply, name="ticket_reply"),
    path("<uuid:public_id>/status/", views.ticket_status, name="ticket_status"),
    path("<uuid:public_id>/assign/", views.ticket_assign, name="ticket_assign"),
    path("<uuid:public_id>/orders/", views.ticket_orders, name="ticket_orders"),
    path("<uuid:public_id>/snippet/", views.snippet_insert, name="snippet_insert"),
    path(
        "<uuid:public_id>/messages/<uuid:message_id>/retry/",
        views.reply_retry,
        name="reply_retry",
    ),
    path(
        "<uuid:public_id>/messages/<uuid:message_id>/image/",
        views.reply_image,
        name="reply_image",
    ),
]
