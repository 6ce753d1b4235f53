from django.urls import path

from . import views

urlpatterns = [path("", views.mailbox, name="mailbox")]
