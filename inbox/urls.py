from django.urls import path

from . import aftersale_views, card_views, presence_views, views

urlpatterns = [
    path("", views.mailbox, name="mailbox"),
    path("poll/", views.list_poll, name="mailbox_poll"),
    path("<uuid:public_id>/", views.ticket_detail, name="ticket_detail"),
    path("<uuid:public_id>/poll/", views.ticket_poll, name="ticket_poll"),
    path("<uuid:public_id>/reply/", views.ticket_reply, name="ticket_reply"),
    path("<uuid:public_id>/presence/", presence_views.ticket_presence, name="ticket_presence"),
    path("<uuid:public_id>/status/", views.ticket_status, name="ticket_status"),
    path("<uuid:public_id>/assign/", views.ticket_assign, name="ticket_assign"),
    path("<uuid:public_id>/orders/", views.ticket_orders, name="ticket_orders"),
    path("<uuid:public_id>/orders/lookup/", views.ticket_order_fetch, name="ticket_order_fetch"),
    path("<uuid:public_id>/snippet/", views.snippet_insert, name="snippet_insert"),
    path("<uuid:public_id>/cards/", card_views.ticket_card_send, name="ticket_card_send"),
    path("<uuid:public_id>/products/", card_views.ticket_products, name="ticket_products"),
    path("<uuid:public_id>/coupons/", card_views.ticket_coupons, name="ticket_coupons"),
    path(
        "<uuid:public_id>/aftersale/<str:kind>/<str:record_id>/review/",
        aftersale_views.ticket_aftersale_review,
        name="ticket_aftersale_review",
    ),
    path(
        "<uuid:public_id>/aftersale/<str:kind>/<str:record_id>/decide/",
        aftersale_views.ticket_aftersale_decide,
        name="ticket_aftersale_decide",
    ),
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
