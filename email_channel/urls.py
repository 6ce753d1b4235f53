from django.urls import path

from . import mail_views, views

urlpatterns = [
    path("settings/channels/", views.channel_list, name="email_channel_list"),
    path("settings/channels/<str:channel_id>/", views.channel_edit, name="email_channel_edit"),
    path(
        "settings/channels/<str:channel_id>/check/",
        views.channel_check,
        name="email_channel_check",
    ),
    path("settings/channels/<str:channel_id>/poll/", views.channel_poll, name="email_channel_poll"),
]

# The parts of an e-mail in the mailbox (the thread links to them).
urlpatterns += [
    path(
        "mailbox/<str:public_id>/email/<str:message_id>/body/",
        mail_views.message_body,
        name="email_message_body",
    ),
    path(
        "mailbox/<str:public_id>/email/<str:message_id>/attachments/<int:number>/",
        mail_views.message_attachment,
        name="email_message_attachment",
    ),
]
