from django.urls import path

from . import views

urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("<uuid:public_id>/", views.order_detail, name="order_detail"),
    path("<uuid:public_id>/note/", views.order_note_update, name="order_note_update"),
    path("<uuid:public_id>/tracking/", views.order_tracking, name="order_tracking"),
]
