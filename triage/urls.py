from django.urls import path

from . import views

urlpatterns = [
    path(
        "mailbox/<uuid:public_id>/triage/",
        views.ticket_triage_correct,
        name="ticket_triage_correct",
    ),
    path(
        "mailbox/<uuid:public_id>/suggestions/",
        views.ticket_suggestions_part,
        name="ticket_suggestions",
    ),
]
