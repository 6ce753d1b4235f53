"""The e-mail a submitted case becomes: every field under its heading, as text and as HTML, with
the case's screenshots, PDFs and CSVs attached (and orders.csv when the kind has orders)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .document import ORDERS_CSV_NAME, escalation_document, orders_csv
from .models import Escalation, EscalationAttachment


def subject_of(escalation: Escalation, title: str) -> str:
    store = escalation.store
    subject = (
        f"[{escalation.reference}] {title} \N{EM DASH} {store.name} (shop {store.external_shop_id})"
    )
    return " ".join(subject.split())[:200]


def escalation_email(
    escalation: Escalation, *, to: str, attachments: list[EscalationAttachment]
) -> EmailMultiAlternatives:
    document = escalation_document(escalation, attachments=attachments)
    order_data = orders_csv(escalation)
    context = {
        "document": document,
        "escalation": escalation,
        "orders_csv": ORDERS_CSV_NAME if order_data is not None else "",
    }
    author = escalation.created_by
    message = EmailMultiAlternatives(
        subject=subject_of(escalation, document.title),
        body=render_to_string("escalations/email/escalation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        # The partner's answer goes to the person who opened the case.
        reply_to=[author.email] if author is not None else [],
        headers={"X-Sellerdesk-Escalation": escalation.reference},
    )
    message.attach_alternative(
        render_to_string("escalations/email/escalation.html", context), "text/html"
    )
    for doc_file in document.files:
        attachment = doc_file.attachment
        with attachment.file.open("rb") as handle:
            message.attach(doc_file.name, handle.read(), attachment.content_type)
    if order_data is not None:
        message.attach(ORDERS_CSV_NAME, order_data, "text/csv")
    return message
