from django.urls import path

from . import aftersale_views, views

urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("lookup/", views.order_fetch, name="order_fetch"),
    path("<uuid:public_id>/", views.order_detail, name="order_detail"),
    path("<uuid:public_id>/note/", views.order_note_update, name="order_note_update"),
    path("<uuid:public_id>/tracking/", views.order_tracking, name="order_tracking"),
    path(
        "<uuid:public_id>/tracking/refresh/",
        views.order_tracking_refresh,
        name="order_tracking_refresh",
    ),
    path(
        "<uuid:public_id>/aftersale/<str:kind>/<str:record_id>/review/",
        aftersale_views.order_aftersale_review,
        name="order_aftersale_review",
    ),
    path(
        "<uuid:public_id>/aftersale/<str:kind>/<str:record_id>/decide/",
        aftersale_views.order_aftersale_decide,
        name="order_aftersale_decide",
    ),
]
